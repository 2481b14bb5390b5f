/**
 * The example tools the description's pipeline patterns call (see src/describe/patterns.ts).
 *
 * @module
 */

import type { Tool } from "../../src/types.ts";

const str = { type: "string" };
const noop = () => ({});

/** crm.get_user, crm.list_orders, search_docs, get_doc, read_file, notify. */
export const PATTERN_TOOLS: Tool[] = [
  {
    name: "crm.get_user",
    description: "Get a user by ID.",
    inputSchema: { type: "object", properties: { id: str }, required: ["id"] },
    outputSchema: {
      type: "object",
      properties: { id: str, name: str, email: str, vip: { type: "boolean" } },
      required: ["id", "name", "email", "vip"],
    },
    execute: noop,
  },
  {
    name: "crm.list_orders",
    description: "List a user's orders, one page at a time.",
    inputSchema: {
      type: "object",
      properties: { userId: str, cursor: { ...str, description: "From the previous page" } },
      required: ["userId"],
    },
    outputSchema: {
      type: "object",
      properties: {
        items: {
          type: "array",
          items: {
            type: "object",
            properties: { id: str, status: str, total: { type: "number" } },
            required: ["id", "status", "total"],
          },
        },
        nextCursor: str,
      },
      required: ["items"],
    },
    execute: noop,
  },
  {
    name: "search_docs",
    description: "Search documents; returns their IDs.",
    inputSchema: { type: "object", properties: { query: str }, required: ["query"] },
    outputSchema: {
      type: "object",
      properties: { ids: { type: "array", items: str } },
      required: ["ids"],
    },
    execute: noop,
  },
  {
    name: "get_doc",
    description: "Get a document.",
    inputSchema: { type: "object", properties: { id: str }, required: ["id"] },
    outputSchema: {
      type: "object",
      properties: { id: str, title: str, body: str },
      required: ["id", "title", "body"],
    },
    execute: noop,
  },
  {
    name: "read_file",
    description: "Read a text file.",
    inputSchema: { type: "object", properties: { path: str }, required: ["path"] },
    outputSchema: { type: "object", properties: { content: str }, required: ["content"] },
    execute: noop,
  },
  {
    name: "notify",
    description: "Send a notification.",
    inputSchema: { type: "object", properties: { to: str, text: str }, required: ["to", "text"] },
    outputSchema: { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] },
    execute: noop,
  },
];
