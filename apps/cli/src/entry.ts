/** The bundled CLI's entry: everything except the `--version` fast path in dist/main.js. */
export { main } from "./main.js"
