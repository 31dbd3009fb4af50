"""Where a file sits inside its library. Delta leaves out ``parentReference.path``, so folders are tracked by id
(an item read on its own carries the path, which is used when given)."""

from __future__ import annotations

from urllib.parse import unquote

from connectors.sharepoint.graph import GraphClient


class FolderPaths:
    """Folder paths of one library, learned from the feed, or looked up once when the feed did not show them."""

    def __init__(self, graph: GraphClient, drive_id: str):
        self._graph = graph
        self._drive_id = drive_id
        self._paths: dict[str, str] = {}

    def learn(self, folder: dict) -> None:
        parent = (folder.get("parentReference") or {}).get("id")
        if "root" in folder:
            self._paths[folder["id"]] = ""
        elif parent in self._paths:
            self._paths[folder["id"]] = _join(self._paths[parent], folder["name"])
        else:
            self._paths.pop(folder["id"], None)  # look it up when a file in it needs it

    def of(self, item: dict) -> str:
        reference = item.get("parentReference") or {}
        parent = reference.get("id")
        if parent and parent not in self._paths and "path" in reference:  # an item read outside delta says where it is
            self._paths[parent] = _path_in(reference)
        return _join(self._folder(parent), item["name"]) if parent else item["name"]

    def _folder(self, folder_id: str) -> str:
        if folder_id not in self._paths:
            folder = self._graph.get(f"drives/{self._drive_id}/items/{folder_id}", {"$select": "id,name,root,parentReference"})
            above = _path_in(folder.get("parentReference") or {})
            self._paths[folder_id] = "" if "root" in folder else _join(above, folder["name"])
        return self._paths[folder_id]


def _path_in(reference: dict) -> str:
    """The folder a parentReference points to, inside its library: "/drives/{id}/root:/Specs/2024" is "Specs/2024"."""
    return unquote(reference.get("path", "").partition("root:")[2]).strip("/")


def _join(folder: str, name: str) -> str:
    return f"{folder.strip('/')}/{name}".lstrip("/")
