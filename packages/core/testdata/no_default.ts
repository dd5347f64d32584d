// A module for the loader's tests that exports no plugin.
export const name = "nothing";
