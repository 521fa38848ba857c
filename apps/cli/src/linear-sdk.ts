/**
 * The Linear SDK as its own file of the bundled CLI (dist/linear-sdk.cjs): at 1.9 MB it is larger
 * than everything else together and only a project with `[linear]` configured loads it.
 */
export * from "@linear/sdk"
