import { assert, describe, it } from "@effect/vitest"
import { entriesOverlap, footprintOverlap, packetsOverlap } from "../src/index.js"
import { packet } from "./utils/plans.js"

describe("entriesOverlap", () => {
  const overlapping: Array<[string, string]> = [
    ["src/api/users.ts", "src/api/users.ts"],
    ["src/api/", "src/api/users.ts"],
    ["src/api", "src/api/users.ts"], // a bare path may be a directory
    ["src/", "src/api/"],
    ["src/**/*.ts", "src/api/users.ts"],
    ["src/**/*.ts", "src/api/"], // the directory may hold .ts files
    ["src/*", "src/api/users.ts"], // src/* matches src/api, which covers what is beneath it
    ["**/*.md", "docs/guide/intro.md"],
    ["*.md", "README.md"],
    ["src/{api,web}/*.ts", "src/web/app.ts"],
    ["src/api/user?.ts", "src/api/users.ts"],
    ["src/[a-c]pi/*.ts", "src/api/x.ts"],
    ["./src/api/x.ts", "src/api/x.ts"],
    ["/src/api/x.ts", "src/api/x.ts"],
    ["src/web/../api/x.ts", "src/api/x.ts"],
    ["SRC/Api/X.ts", "src/api/x.ts"], // case-insensitive file systems
    ["../elsewhere", "src/a.ts"], // outside the repository: everything
    ["**", "anything/at/all.txt"],
    ["src/**/test/*.ts", "src/a/b/test/c.ts"],
    ["src/*/index.ts", "src/**/index.ts"]
  ]
  for (const [a, b] of overlapping) {
    it(`${a} overlaps ${b}`, () => {
      assert.isTrue(entriesOverlap(a, b))
      assert.isTrue(entriesOverlap(b, a))
    })
  }

  const disjoint: Array<[string, string]> = [
    ["src/api/users.ts", "src/api/user.ts"],
    ["src/api/", "src/web/"],
    ["src/api/users.ts", "src/api/users.tsx"],
    ["src/**/*.ts", "src/**/*.md"],
    ["src/**/*.ts", "docs/"],
    ["docs/*.md", "src/readme.md"],
    ["src/{api,web}/*.ts", "src/cli/main.ts"],
    ["src/[a-c]pi/x.ts", "src/xpi/x.ts"],
    ["test/*.test.ts", "test/unit.spec.ts"],
    ["packages/a/src/", "packages/b/src/"]
  ]
  for (const [a, b] of disjoint) {
    it(`${a} does not overlap ${b}`, () => {
      assert.isFalse(entriesOverlap(a, b))
      assert.isFalse(entriesOverlap(b, a))
    })
  }
})

describe("footprintOverlap", () => {
  it("names the first pair of entries that overlap", () => {
    assert.deepStrictEqual(footprintOverlap(["docs/a.md", "src/api/"], ["lib/", "src/api/x.ts"]), [
      "src/api/",
      "src/api/x.ts"
    ])
    assert.isUndefined(footprintOverlap(["docs/a.md"], ["lib/"]))
  })

  it("treats a packet with no files_in_scope as touching every file", () => {
    assert.isDefined(packetsOverlap(packet("a", { files: [] }), packet("b", { files: ["docs/x.md"] })))
    assert.isUndefined(packetsOverlap(packet("a", { files: ["src/a.ts"] }), packet("b", { files: ["docs/x.md"] })))
  })
})
