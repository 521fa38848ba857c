/**
 * Octokit as its own file of the bundled CLI (dist/octokit.cjs): its REST endpoint table alone is 80 KB,
 * and only a project whose issues or pull requests are on GitHub loads it. Every read command that does
 * not would otherwise hold its text.
 */
export * from "@octokit/rest"
