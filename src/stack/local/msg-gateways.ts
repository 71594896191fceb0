/**
 * The process name of message-gateway instance `index` (OpenIM's `-i`), in `cutover status`
 * and for faults (`msggateway`, `msggateway-1`, …). Instance 0 keeps the name of the single
 * gateway, so faults, reports and anything else that says `openim-msggateway` still mean a
 * gateway that exists whatever the count.
 */
export const msgGatewayName = (index: number): string =>
  index === 0 ? "openim-msggateway" : `openim-msggateway-${index}`;
