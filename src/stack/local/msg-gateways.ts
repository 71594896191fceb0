import type { LocalPorts } from "./ports-plan.js";

/** One `openim-msggateway` process of the local stack. */
export interface MsgGatewayInstance {
  /** OpenIM's `-i`: the index into openim-msggateway.yml's rpc.ports and longConnSvr.ports. */
  index: number;
  /** Its process name in `cutover status` and for faults (`msggateway`, `msggateway-1`, …). */
  name: string;
  ws: number;
  rpc: number;
}

/**
 * Instance 0 keeps the name of the single gateway, so faults, reports and anything else that
 * says `openim-msggateway` still mean a gateway that exists whatever the count.
 */
export const msgGatewayName = (index: number): string =>
  index === 0 ? "openim-msggateway" : `openim-msggateway-${index}`;

export function msgGatewayInstances(ports: LocalPorts): MsgGatewayInstance[] {
  return ports.msgGateways.map((p, index) => ({ index, name: msgGatewayName(index), ...p }));
}
