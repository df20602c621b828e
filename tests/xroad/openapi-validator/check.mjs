// check.mjs: validate OpenAPI 3.1 documents with third-party code only.
//
// Usage: node check.mjs FILE...   (run from the folder where `npm ci` installed package-lock.json)
//        node check.mjs --to-json FILE   (print the document, JSON or YAML, as JSON)
// For each file: the document must declare openapi 3.1.x and pass
// @seriousme/openapi-schema-validator (the OpenAPI Initiative's published 3.1 JSON Schema, plus its
// check that every $ref resolves); then, because that schema accepts any object as a Schema
// Object, every Schema Object (components.schemas and each "schema" member) must also be a valid
// JSON Schema 2020-12 schema (Ajv's meta-schema check; draft-07 when the schema says so).
// Prints one JSON line per file: {"file", "valid", "errors"}. Exit 0 when all are valid, 1 if
// not, 2 on a usage error.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { argv, exit } from "node:process";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import { parse } from "yaml";

const draft07 = createRequire(import.meta.url)("ajv/dist/refs/json-schema-draft-07.json");

function schemaObjects(doc) {
	const out = [];
	for (const [name, s] of Object.entries(doc?.components?.schemas ?? {})) {
		out.push([`#/components/schemas/${name}`, s]);
	}
	const walk = (node, path) => {
		if (Array.isArray(node)) {
			node.forEach((v, i) => walk(v, `${path}/${i}`));
		} else if (node && typeof node === "object") {
			for (const [k, v] of Object.entries(node)) {
				const p = `${path}/${k.replaceAll("~", "~0").replaceAll("/", "~1")}`;
				if (k === "schema" && (typeof v === "object" || typeof v === "boolean")) {
					out.push([p, v]);
				} else if (!(path === "#/components" && k === "schemas")) {
					walk(v, p);
				}
			}
		}
	};
	walk(doc, "#");
	return out;
}

async function check(file) {
	let doc;
	try {
		doc = parse(await readFile(file, "utf-8"));
	} catch (e) {
		return { file, valid: false, errors: [`not JSON or YAML: ${e.message}`] };
	}
	if (typeof doc?.openapi !== "string" || !/^3\.1\.\d+$/.test(doc.openapi)) {
		return { file, valid: false, errors: [`openapi must be 3.1.x, got ${JSON.stringify(doc?.openapi)}`] };
	}
	const validator = new Validator();
	const res = await validator.validate(doc);
	if (!res.valid) {
		return { file, valid: false, errors: res.errors };
	}
	const ajv = new Ajv2020({ strict: false, validateFormats: false });
	ajv.addMetaSchema(draft07);
	const errors = [];
	for (const [where, s] of schemaObjects(doc)) {
		if (typeof s === "boolean") continue;
		if (!ajv.validateSchema(s)) {
			errors.push({ where, errors: ajv.errors });
		}
	}
	return { file, valid: errors.length === 0, errors };
}

if (argv[2] === "--to-json" && argv.length === 4) {
	console.log(JSON.stringify(parse(await readFile(argv[3], "utf-8"))));
	exit(0);
}
if (argv.length < 3) {
	console.error("usage: node check.mjs FILE...");
	exit(2);
}
let ok = true;
for (const file of argv.slice(2)) {
	const r = await check(file);
	ok = ok && r.valid;
	console.log(JSON.stringify(r));
}
exit(ok ? 0 : 1);
