import type pg from "pg";

/**
 * The chat service's Postgres: conversations with their last seq, groups, memberships and
 * every message. A message's seq comes from its conversation row, incremented in the same
 * statement that stores the message, so seqs are gapless and unique per conversation even
 * with many chat service processes (the row lock orders concurrent senders).
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS groups (
  group_id      text PRIMARY KEY,
  owner_user_id text NOT NULL,
  name          text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS group_members (
  group_id  text NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
  user_id   text NOT NULL,
  role      text NOT NULL DEFAULT 'member',
  joined_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX IF NOT EXISTS group_members_by_user ON group_members (user_id);
CREATE TABLE IF NOT EXISTS conversations (
  conversation_id text PRIMARY KEY,
  kind            text NOT NULL CHECK (kind IN ('single', 'group')),
  group_id        text REFERENCES groups (group_id) ON DELETE CASCADE,
  last_seq        bigint NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS messages (
  conversation_id text NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
  seq             bigint NOT NULL,
  server_msg_id   text NOT NULL,
  client_msg_id   text NOT NULL,
  send_id         text NOT NULL,
  recv_id         text,
  group_id        text,
  content         text NOT NULL,
  send_time       bigint NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);
`;

const STORE_MESSAGE = `
WITH conv AS (
  INSERT INTO conversations (conversation_id, kind, group_id, last_seq) VALUES ($1, $2, $3, 1)
  ON CONFLICT (conversation_id) DO UPDATE SET last_seq = conversations.last_seq + 1, updated_at = now()
  RETURNING last_seq
)
INSERT INTO messages (conversation_id, seq, server_msg_id, client_msg_id, send_id, recv_id, group_id, content, send_time)
SELECT $1, conv.last_seq, $4, $5, $6, $7, $3, $8, $9 FROM conv
RETURNING seq`;

const GROUP_MEMBERS = "SELECT user_id FROM group_members WHERE group_id = $1";

export interface NewMessage {
  conversationID: string;
  kind: "single" | "group";
  groupID?: string;
  serverMsgID: string;
  clientMsgID: string;
  sendID: string;
  recvID?: string;
  text: string;
  sendTime: number;
}

export function chatStore(pool: pg.Pool) {
  return {
    /** Creates the tables once; concurrent starters wait on an advisory lock instead of racing. */
    async migrate(): Promise<void> {
      const client = await pool.connect();
      try {
        await client.query("SELECT pg_advisory_lock(7007)");
        await client.query(SCHEMA_SQL);
        await client.query("SELECT pg_advisory_unlock(7007)");
      } finally {
        client.release();
      }
    },

    /** The group, its members (owner included) and its conversation, in one transaction. */
    async createGroup(
      groupID: string,
      ownerUserID: string,
      name: string,
      members: string[],
    ): Promise<number> {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await client.query("INSERT INTO groups (group_id, owner_user_id, name) VALUES ($1, $2, $3)", [
          groupID,
          ownerUserID,
          name,
        ]);
        const all = [...new Set([ownerUserID, ...members])];
        await client.query(
          `INSERT INTO group_members (group_id, user_id, role)
           SELECT $1, u, CASE WHEN u = $2 THEN 'owner' ELSE 'member' END FROM unnest($3::text[]) AS u`,
          [groupID, ownerUserID, all],
        );
        await client.query(
          "INSERT INTO conversations (conversation_id, kind, group_id, last_seq) VALUES ($1, 'group', $2, 0)",
          [`sg_${groupID}`, groupID],
        );
        await client.query("COMMIT");
        return all.length;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },

    /** The group's member userIDs, or undefined when there is no such group. */
    async groupMembers(groupID: string): Promise<string[] | undefined> {
      const res = await pool.query<{ user_id: string }>({
        name: "group_members",
        text: GROUP_MEMBERS,
        values: [groupID],
      });
      return res.rows.length > 0 ? res.rows.map((r) => r.user_id) : undefined;
    },

    /** Stores the message under the conversation's next seq and answers that seq. */
    async storeMessage(m: NewMessage): Promise<number> {
      const res = await pool.query<{ seq: string }>({
        name: "store_message",
        text: STORE_MESSAGE,
        values: [
          m.conversationID,
          m.kind,
          m.groupID ?? null,
          m.serverMsgID,
          m.clientMsgID,
          m.sendID,
          m.recvID ?? null,
          m.text,
          m.sendTime,
        ],
      });
      const seq = res.rows[0]?.seq;
      if (seq === undefined) throw new Error(`no seq for ${m.conversationID}`);
      return Number(seq);
    },
  };
}

export type ChatStore = ReturnType<typeof chatStore>;
