export { default as WKSDK } from "./index.js";
export * from "./model.js";
export * from "./const.js";
export * from "./conversation_manager.js";
export * from "./index.js";
