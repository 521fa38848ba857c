/** The world the publishing tests run in. */
import {
  type FakeGitHub,
  fakeGitHub,
  type FakeLinear,
  fakeLinear,
  git,
  tempBareRemote,
  tempRepo,
  type TempRepo
} from "@spec-orch/test-kit"
import { Effect } from "effect"

/** The GitHub repository the fake serves. */
export const REPO = "acme/widgets"

export interface World {
  readonly repo: TempRepo
  readonly bare: string
  readonly github: FakeGitHub
  readonly linear: FakeLinear
}

/** A local repository with a bare `origin`, a fake GitHub backed by that bare repository, and a fake Linear. */
export const publishingWorld = Effect.gen(function* () {
  const repo = yield* tempRepo({ files: { "README.md": "# widgets\n" } })
  const bare = yield* tempBareRemote(repo)
  const github = yield* fakeGitHub()
  github.addRepo(REPO, { gitDir: bare })
  const linear = yield* fakeLinear()
  return { repo, bare, github, linear } satisfies World
})

/** The commit a branch points at in the bare remote. */
export const remoteHead = (bare: string, branch: string) => git(bare, ["rev-parse", `refs/heads/${branch}`]).trim()
