/**
 * The LLM-facing description of a tool set: TypeScript declarations from JSON Schemas, the
 * pipeline patterns, and tool search for large tool sets.
 *
 * @module
 */

export {
  type DescribedTool,
  type DescribeOptions,
  describeTools,
  type Description,
} from "./describe_tools.ts";
export { schemaToTypeScript, type SchemaToTypeScriptOptions } from "./schema_to_typescript.ts";
export { searchTools, type SearchToolsOptions, type ToolMatch } from "./search_tools.ts";
export { toolDeclarations, type ToolDeclarationsOptions } from "./tool_declarations.ts";
