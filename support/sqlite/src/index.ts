export * as SqliteClient from "./SqliteClient.js"
