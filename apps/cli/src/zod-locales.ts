/** zod's `locales` namespace in the bundle (tsup.config.ts): English only, the language zod speaks by default. */
export { default as en } from "zod/v4/locales/en.js"
