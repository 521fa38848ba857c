/**
 * @spec-orch/control: Operating: the durable Run workflow, run store, scheduler and daemon, trackers and SCM publishing, the live event feed.
 */
export {}
