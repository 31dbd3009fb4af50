/* Admin: connectors. The page entry: the list (connector-list.js), the add/edit dialog
 * (connector-dialog.js, its form built by connector-form.js) and the sync history (connector-runs.js).
 */
import { ConnectorDialog } from "./connector-dialog.js";
import { ConnectorList } from "./connector-list.js";
import { showRuns } from "./connector-runs.js";
import { loadTypes } from "./connector-types.js";

const list = new ConnectorList({ onEdit: (connector) => dialog.edit(connector), onHistory: showRuns });

const types = loadTypes().catch((error) => {
  list.showProblem("Could not load the connector types: " + error.message);
  return [];
});

const dialog = new ConnectorDialog({
  types,
  onSaved: ({ added }) => {
    if (added) list.pollFast(15000); // its first sync has started
    return list.refresh();
  },
});

document.getElementById("add-connector").addEventListener("click", () => dialog.add());

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) list.refresh();
});

list.refresh();
