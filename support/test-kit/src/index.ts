/** @spec-orch/test-kit: loopback servers and repository helpers for tests. */
export {
  FAKE_GITHUB_ROUTES,
  FakeGitHub,
  type FakeGitHubOptions,
  type FakeGitHubUser,
  type FakePullRequest,
  fakeGitHub,
  startFakeGitHub
} from "./FakeGitHub.js"
export { FakeHttpServer, type Fault, type RecordedRequest } from "./FakeHttp.js"
export { type FastForwardClock, fastForwardClock } from "./FastForwardClock.js"
export {
  copyFixture,
  type EditableMode,
  FIXTURES_DIR,
  installNodeModules,
  installPythonEditable,
  type LibraryFixture
} from "./Fixtures.js"
export {
  DEFAULT_LINEAR_STATES,
  FAKE_LINEAR_OPERATIONS,
  FakeLinear,
  type FakeLinearComment,
  type FakeLinearIssue,
  type FakeLinearIssueInput,
  type FakeLinearOptions,
  type FakeLinearUser,
  fakeLinear,
  startFakeLinear
} from "./FakeLinear.js"
export {
  addBareRemote,
  createRepo,
  git,
  gitEnv,
  makeTempDir,
  manyFiles,
  removeDir,
  repoAt,
  type RepoOptions,
  tempBareRemote,
  tempDir,
  tempRepo,
  type TempRepo,
  writeFiles
} from "./GitRepo.js"
export {
  bagOfWords,
  bagOfWordsEmbedder,
  type Embedder,
  type EmbeddingReply,
  type EmbeddingRequest,
  ModelServer,
  type ModelRequest,
  type Reply,
  type Script,
  scripts,
  shellCall,
  sideText,
  startModelServer,
  writeCall
} from "./ModelServer.js"
export { freePorts } from "./Ports.js"
export { describeProcesses, processAlive, processesIn, processesUnder } from "./Processes.js"
export { type Requirement, requirePostgres, requireService, type RequiredService } from "./Required.js"
