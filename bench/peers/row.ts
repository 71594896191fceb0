/** One tool against one target: what it was asked, what it did, what it cost, what it could tell. */
export interface PeerRow {
  tool: string;
  target: "no-work" | "openim";
  path: "ws" | "rest";
  intendedRate: number;
  sent: number;
  /** Frames (ws) or responses (rest) that came back, as far as the tool counts them; null when it does not. */
  received: number | null;
  /** Time the sends took: first intended send to the last actual one (at least the schedule). */
  sendSeconds: number | null;
  windowCpuSeconds: number;
  totalCpuSeconds: number;
  peakRssBytes: number;
  /** Milliseconds, as the tool itself reports them. */
  latencies: Record<string, { p50?: number; p99?: number; max?: number; mean?: number; min?: number }>;
  latencyNote: string;
  errors: Record<string, number>;
  notes: string[];
  artifacts?: string;
  /** The generator's own CPU reading of its phase, when it has one (process.cpuUsage). */
  selfCpuSeconds?: number;
}

export interface DerivedRow extends PeerRow {
  achievedRate: number | null;
  cpuMicrosPerSentMessage: number | null;
  /** Sent plus what came back (the tool's count), for the tools that count it. */
  cpuMicrosPerMessage: number | null;
}

const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;

export function derive(r: PeerRow): DerivedRow {
  return {
    ...r,
    achievedRate: r.sendSeconds ? round(r.sent / r.sendSeconds, 1) : null,
    cpuMicrosPerSentMessage: r.sent > 0 ? round((r.windowCpuSeconds / r.sent) * 1e6, 1) : null,
    cpuMicrosPerMessage:
      r.received !== null && r.sent + r.received > 0
        ? round((r.windowCpuSeconds / (r.sent + r.received)) * 1e6, 1)
        : null,
  };
}
