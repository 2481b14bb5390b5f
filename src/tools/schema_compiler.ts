/**
 * Compiling tools' input schemas to validators, fail-closed: every common draft (04, 06, 07,
 * 2019-09, 2020-12), `format` checked, and nothing a hostile argument can make super-linear —
 * `pattern`, `patternProperties` and `format` expressions run on the linear-time engine of
 * `linear_regexp.ts`, and `uniqueItems` compares items by a canonical key instead of pairwise.
 * A schema that cannot be compiled is an error the caller reports; it is never let through
 * unchecked. Remote `$ref`s are never fetched (they are an error).
 *
 * ajv and its plugins load on first use ({@linkcode _loadSchemaCompiler}): a run that calls no
 * tool never loads them.
 *
 * @module
 */

import type { Ajv, ErrorObject, FormatDefinition, Options, ValidateFunction } from "ajv";
import type { JsonSchema } from "../types.ts";
import { _nestedDeeperThan } from "./json_depth.ts";
import { _loadRegExpEngine, type _RegExpEngine } from "./linear_regexp.ts";
import { type _Draft, _draftOf, SCHEMA_MAPS } from "./schema_draft.ts";
import { _linearFormats, _uniqueItems } from "./schema_vocabulary.ts";

/** What this module uses of an ajv instance (every draft's class has it). */
type AjvCore = Pick<
  Ajv,
  "compile" | "addMetaSchema" | "addFormat" | "removeKeyword" | "addKeyword" | "validateSchema"
>;

/** Checks one input: the complaint in words, or `null` when it conforms. Never throws. */
export type _Validator = (input: unknown) => string | null;

/** Compiles schemas; load it with {@linkcode _loadSchemaCompiler}. */
export interface _SchemaCompiler {
  /**
   * A validator for `schema` (cached per schema object).
   * @throws {TypeError} saying what is wrong with the schema and what to do.
   */
  compile(schema: JsonSchema): _Validator;
}

/** Schemas nested deeper than this are refused (ajv compiles them recursively). */
export const SCHEMA_MAX_DEPTH = 200;

/** The `$schema` each draft is compiled under. */
const CANONICAL: Record<_Draft, string> = {
  "draft-04": "http://json-schema.org/draft-04/schema#",
  "draft-06": "http://json-schema.org/draft-06/schema#",
  "draft-07": "http://json-schema.org/draft-07/schema#",
  "2019-09": "https://json-schema.org/draft/2019-09/schema",
  "2020-12": "https://json-schema.org/draft/2020-12/schema",
};

/** An ajv instance compiles this many schemas before a fresh one replaces it (see `#ajv`). */
const COMPILES_PER_INSTANCE = 500;

let loading: Promise<_SchemaCompiler> | undefined;
let loaded: _SchemaCompiler | undefined;

/** Loads ajv, its plugins and the regular-expression engine once; later calls share the load. */
export function _loadSchemaCompiler(): Promise<_SchemaCompiler> {
  loading ??= (async () => {
    const [core, ajv2019, ajv2020, ajv04, formats, draft06, engine] = await Promise.all([
      import("ajv"),
      import("ajv/dist/2019.js"),
      import("ajv/dist/2020.js"),
      import("ajv-draft-04"),
      import("ajv-formats/dist/formats.js"),
      import("ajv/dist/refs/json-schema-draft-06.json", { with: { type: "json" } }),
      _loadRegExpEngine(),
    ]);
    const classes: Record<_Draft, new (options: Options) => AjvCore> = {
      "draft-04": ajv04.default as unknown as new (options: Options) => AjvCore,
      "draft-06": core.Ajv,
      "draft-07": core.Ajv,
      "2019-09": ajv2019.Ajv2019,
      "2020-12": ajv2020.Ajv2020,
    };
    return loaded = new _AjvCompiler(
      classes,
      draft06.default,
      _linearFormats(formats.fullFormats, engine),
      engine,
    );
  })();
  return loading;
}

/** The compiler if it has been loaded, else `undefined`. */
export function _loadedSchemaCompiler(): _SchemaCompiler | undefined {
  return loaded;
}

class _AjvCompiler implements _SchemaCompiler {
  #classes: Record<_Draft, new (options: Options) => AjvCore>;
  #draft06: object;
  #formats: Record<string, FormatDefinition<string> | FormatDefinition<number> | true>;
  #regExp: NonNullable<NonNullable<Options["code"]>["regExp"]>;
  #instances = new Map<_Draft, { ajv: AjvCore; compiles: number }>();
  /** Per draft, an instance that only checks schemas against the meta-schema (all errors). */
  #meta = new Map<_Draft, AjvCore>();
  #cache = new WeakMap<object, _Validator>();

  constructor(
    classes: Record<_Draft, new (options: Options) => AjvCore>,
    draft06: object,
    formats: Record<string, FormatDefinition<string> | FormatDefinition<number> | true>,
    engine: _RegExpEngine,
  ) {
    this.#classes = classes;
    this.#draft06 = draft06;
    this.#formats = formats;
    this.#regExp = Object.assign(
      (pattern: string, flags: string) => engine.compile(pattern, flags),
      {
        code: "linearRegExp",
      },
    );
  }

  compile(schema: JsonSchema): _Validator {
    const hit = this.#cache.get(schema);
    if (hit) return hit;
    if (_nestedDeeperThan(schema, SCHEMA_MAX_DEPTH, 1_000_000)) {
      throw new TypeError(
        `it nests deeper than ${SCHEMA_MAX_DEPTH} levels (or is too large to walk): flatten it ` +
          `with "$defs" and "$ref"`,
      );
    }
    const draft = _draftOf(schema);
    const copy = { ...schema, $schema: CANONICAL[draft] };
    const invalid = this.#metaProblems(draft, copy);
    if (invalid !== undefined) {
      throw new TypeError(`it is not a valid ${draft} schema (${invalid}): fix those keywords`);
    }
    let validate: ValidateFunction;
    try {
      validate = this.#ajv(draft).compile(copy);
    } catch (error) {
      throw new TypeError(_compileProblem(error, draft));
    }
    const validator: _Validator = (input) => {
      try {
        return validate(input) ? null : _complaint(validate.errors ?? []);
      } catch (error) {
        return `could not be checked (${_message(error)}); send simpler data`;
      }
    };
    this.#cache.set(schema, validator);
    return validator;
  }

  /**
   * What is wrong with `schema` by its draft's meta-schema, or `undefined`. Flaws that change
   * nothing a check does are let through — duplicates in (or an empty) `required`, `enum` or
   * `type`, which many real servers send — since ajv's compiler refuses any value there it
   * cannot check (`type: "strng"`, `required: "a"`).
   */
  #metaProblems(draft: _Draft, schema: JsonSchema): string | undefined {
    let meta = this.#meta.get(draft);
    if (meta === undefined) {
      meta = new this.#classes[draft]({
        strict: false,
        allErrors: true,
        validateFormats: false,
        logger: false,
      });
      if (draft === "draft-06") meta.addMetaSchema(this.#draft06);
      this.#meta.set(draft, meta);
    }
    const ajv = meta as AjvCore & { errors?: Partial<ErrorObject>[] | null };
    if (ajv.validateSchema(schema) === true) return undefined;
    const serious = (ajv.errors ?? []).filter((e) => !_harmlessMetaError(e.instancePath ?? ""));
    if (serious.length === 0) return undefined;
    return serious.slice(0, 3).map((e) => `${e.instancePath || "the schema"} ${e.message}`)
      .join(", ");
  }

  /**
   * The instance for a draft. Instances are replaced after a few hundred compiles: ajv keeps
   * every schema it compiled, so a long-lived `serve` re-listing tools would grow without end;
   * a replaced instance lives on only as long as validators compiled by it.
   */
  #ajv(draft: _Draft): AjvCore {
    let slot = this.#instances.get(draft);
    if (slot === undefined || slot.compiles >= COMPILES_PER_INSTANCE) {
      const ajv = new this.#classes[draft]({
        strict: false, // unknown keywords are annotations, as the drafts say
        allErrors: false, // one complaint; also bounds the work on a large wrong input
        validateFormats: true,
        logger: false, // unknown formats are ignored, not logged
        addUsedSchema: false, // a tool's `$id` must not clash with another tool's
        validateSchema: false, // done by #metaProblems
        code: { regExp: this.#regExp },
      });
      if (draft === "draft-06") ajv.addMetaSchema(this.#draft06);
      for (const [name, format] of Object.entries(this.#formats)) ajv.addFormat(name, format);
      ajv.removeKeyword("uniqueItems");
      ajv.addKeyword({
        keyword: "uniqueItems",
        type: "array",
        schemaType: "boolean",
        errors: true,
        validate: _uniqueItems,
      });
      slot = { ajv, compiles: 0 };
      this.#instances.set(draft, slot);
    }
    slot.compiles++;
    return slot.ajv;
  }
}

/**
 * Whether a meta-schema error at `path` is about the value of `required`, `enum` or `type` (not
 * a property of that name), which the compiler checks itself.
 */
function _harmlessMetaError(path: string): boolean {
  const segments = path.split("/");
  const last = segments[segments.length - 1];
  const parent = segments[segments.length - 2] ?? "";
  return (last === "required" || last === "enum" || last === "type") &&
    !SCHEMA_MAPS.includes(parent);
}

/** The schema's problem in words, from what ajv threw. */
function _compileProblem(error: unknown, draft: _Draft): string {
  const message = _message(error);
  if (error instanceof SyntaxError) return message; // a pattern, already in words
  if ((error as { missingRef?: unknown }).missingRef !== undefined) {
    // "can't resolve reference <the $ref as written> from id <base>"
    const local = /can't resolve reference #/.test(message);
    return local
      ? `a "$ref" points to nothing in the schema (${message}): fix the reference`
      : `a "$ref" refers outside the schema (${message}); remote references are never ` +
        `fetched: inline the referenced schema under "$defs" and point to "#/$defs/…"`;
  }
  if (/^(type must be|\S+ value must be)/.test(message)) {
    return `it is not a valid ${draft} schema (${message}): fix that keyword`;
  }
  if (error instanceof RangeError) {
    return `it is too deeply nested to compile: flatten it with "$defs" and "$ref"`;
  }
  return `${message}: fix the schema`;
}

/** ajv's first complaints in words: `"a" must be number`, `input must have required …`. */
function _complaint(errors: Partial<ErrorObject>[]): string {
  return errors.slice(0, 5).map((e) => {
    // Paths and property names come from the program's input: shown cut.
    const where = e.instancePath
      ? `"${_cut(e.instancePath.slice(1).replaceAll("/", "."))}"`
      : "input";
    const extra = e.keyword === "enum"
      ? `: ${
        _cut(
          (e.params as { allowedValues: unknown[] }).allowedValues.map((x) => JSON.stringify(x))
            .join(", "),
          300,
        )
      }`
      : e.keyword === "additionalProperties"
      ? ` "${_cut((e.params as { additionalProperty: string }).additionalProperty)}"`
      : "";
    return `${where} ${e.message}${extra}`;
  }).join("; ");
}

function _cut(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function _message(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return "an error that cannot be shown";
  }
}
