/**
 * @spec-orch/control: Operating: the durable Run workflow, run store, scheduler and daemon, trackers and SCM publishing, the live event feed.
 */
export * from "./run/EngineLock.js"
export * from "./run/RunEngine.js"
export * from "./run/Runs.js"
export * from "./run/RunStore.js"
export * from "./run/RunWorkflow.js"
export * from "./publish/Publisher.js"
export * from "./publish/RunPublisher.js"
export * from "./trackers/GitHub.js"
export * from "./trackers/IssueDescription.js"
export * from "./trackers/Linear.js"
export * from "./trackers/RequestBudget.js"
export * from "./trackers/TrackerError.js"
export * from "./trackers/TrackerIssueSource.js"
export * from "./trackers/TrackerLayer.js"
