/** The bundled CLI's entry (dist/cli.cjs): `main`, and the command names the launcher keys its compile cache by. */
export { main } from "./main.js"
export { commandNames } from "./Cli.js"
