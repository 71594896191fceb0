import { randomBytes } from "node:crypto";
import { uniqueUserID } from "../protocol/ids.js";
import type { DriverUser } from "./driver.js";

/** `count` new accounts with random passwords, registered one by one through a DH login's `register`. */
export async function registerFreshUsers(
  register: (userID: string, password: string) => Promise<void>,
  count: number,
  prefix: string,
  platformID: number,
): Promise<DriverUser[]> {
  const users: DriverUser[] = [];
  for (let i = 0; i < count; i++) {
    const user = {
      userID: uniqueUserID(prefix),
      password: randomBytes(12).toString("base64url"),
      platformID,
    };
    await register(user.userID, user.password);
    users.push(user);
  }
  return users;
}
