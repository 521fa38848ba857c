/** Greets someone by name. */
export const greet = (name) => `Hello, ${name}!`
