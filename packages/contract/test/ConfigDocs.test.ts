import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { ConfigFile } from "../src/index.js"

/** Every key path of the schema (records appear as `<id>`, catch-alls as the section). */
const keys = (schema: any, prefix: Array<string>): Array<string> => {
  let s = schema
  for (let i = 0; i < 10; i++) {
    const d = s._zod.def
    if (["optional", "default", "prefault", "nullable"].includes(d.type)) s = d.innerType
    else if (d.type === "lazy") s = d.getter()
    else break
  }
  const def = s._zod.def
  if (def.type === "object")
    return Object.entries(def.shape).flatMap(([k, v]) => [[...prefix, k].join("."), ...keys(v, [...prefix, k])])
  if (def.type === "record") return keys(def.valueType, [...prefix, "<id>"])
  return []
}

describe("docs/configuration.md", () => {
  it("documents every key spec-orch.toml accepts", () => {
    const doc = readFileSync(join(import.meta.dirname, "../../../docs/configuration.md"), "utf8")
    const missing = keys(ConfigFile, []).filter((path) => {
      const leaf = path.split(".").pop()!
      return !doc.includes(`\`${path}\``) && !doc.includes(`\`${leaf}\``) && !doc.includes(leaf)
    })
    assert.deepStrictEqual(missing, [])
  })
})
