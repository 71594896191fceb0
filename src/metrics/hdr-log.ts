import { closeSync, openSync, writeSync } from "node:fs";
import { HistogramLogWriter } from "hdr-histogram-js";
import type { Histogram } from "./histogram.js";

export const COUNTERS_TAG = "[Counters";
export const RESOURCES_TAG = "[Resources";

/**
 * An interval log in HdrHistogram's log format (v1.3: `Tag=<metric>,start,length,max,
 * base64`), readable by HistogramLogReader, HdrHistogram's HistogramLogProcessor and
 * HdrHistogramVisualizer. Every line is written straight to the file descriptor, so a run
 * killed mid-way leaves every interval it finished on disk.
 */
export class HdrIntervalLog {
  private readonly fd: number;
  private readonly writer: HistogramLogWriter;

  constructor(
    readonly file: string,
    startedAtEpochMs: number,
    header: string[] = [],
  ) {
    this.fd = openSync(file, "a");
    this.writer = new HistogramLogWriter((text) => {
      writeSync(this.fd, text);
    });
    this.writer.outputLogFormatVersion();
    this.writer.outputComment(
      `[StartTime: ${(startedAtEpochMs / 1000).toFixed(3)} (seconds since epoch), ${new Date(startedAtEpochMs).toISOString()}]`,
    );
    this.writer.outputComment(`[BaseTime: ${(startedAtEpochMs / 1000).toFixed(3)} (seconds since epoch)]`);
    this.writer.outputComment("[values in microseconds; Interval_Max in milliseconds]");
    for (const line of header) this.writer.outputComment(line);
    this.writer.outputLegend();
  }

  /** `startSec`/`endSec` are seconds since the run's start (the BaseTime above). */
  write(tag: string, h: Histogram, startSec: number, endSec: number): void {
    if (h.totalCount === 0) return;
    h.tag = tag;
    this.writer.outputIntervalHistogram(h, startSec, endSec, 1000);
  }

  comment(text: string): void {
    this.writer.outputComment(text);
  }

  /**
   * A phase's cumulative counters at the end of an interval, as a comment (HdrHistogram's
   * readers skip comments): what `cutover report --from-log` rebuilds the books from when the
   * run never wrote its results.
   */
  counters(phaseOffsetSec: number, endSec: number, counters: object): void {
    this.writer.outputComment(
      `${COUNTERS_TAG} ${phaseOffsetSec.toFixed(3)} ${endSec.toFixed(3)} ${JSON.stringify(counters)}]`,
    );
  }

  /** One resource sample of the SUT (and the generator), as a comment, for the same reason. */
  resources(sample: object): void {
    this.writer.outputComment(`${RESOURCES_TAG} ${JSON.stringify(sample)}]`);
  }

  close(): void {
    closeSync(this.fd);
  }
}
