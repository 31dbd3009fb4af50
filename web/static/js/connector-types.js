/* The kinds of connector this Enclave offers, and how the page shows each. */
import { api } from "./common.js";

const TYPE_ICONS = { local: "folder", sharepoint: "share", salesforce: "cloud" };

export const TYPE_BLURBS = {
  local: "A folder on this server, or a network share mounted on it.",
  sharepoint: "Document libraries of SharePoint Online sites, with their permissions.",
  salesforce: "Knowledge articles, cases, accounts and files of a Salesforce org.",
};

export function typeIcon(type) {
  return TYPE_ICONS[type] || "plug";
}

/* The types with their config schemas: [{type, label, schema}]. */
export function loadTypes() {
  return api("GET", "/api/v1/connectors/types");
}
