import { Counter, Trend } from "k6/metrics";

/**
 * cutover's metric names (src/load/results.ts METRIC_DESCRIPTIONS), so `cutover import k6`
 * maps them one to one. Trends are times (isTime: true), in ms as k6 records them.
 */
export const ack = new Trend("ack", true);
export const e2e = new Trend("e2e", true);
export const e2eLast = new Trend("e2e_last", true);
export const login = new Trend("login", true);
export const connect = new Trend("connect", true);

export const sent = new Counter("sent");
export const acked = new Counter("acked");
export const delivered = new Counter("delivered");
export const lost = new Counter("lost");
export const duplicated = new Counter("duplicated");
export const expectedDeliveries = new Counter("expected_deliveries");
export const sendErrors = new Counter("send_errors");
export const loginErrors = new Counter("login_errors");
export const connectErrors = new Counter("connect_errors");
export const logins = new Counter("logins");
export const connects = new Counter("connects");
export const droppedConnections = new Counter("dropped_connections");
