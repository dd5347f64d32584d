// A module for the loader's tests whose default export lacks a schema.
export default { name: "wrong", create: () => ({}) };
