from webos_common.modules.manifest import Collection, ModuleManifest
from webos_shell.collection_api import CollectionApi

ROUTES = [
    {"path": "/api/tasks/tasks", "methods": ["GET", "POST"]},
    {"path": "/api/tasks/tasks/board", "methods": ["GET"]},
    {"path": "/api/tasks/tasks/bulk/status", "methods": ["POST"]},
    {"path": "/api/tasks/tasks/{task_id}", "methods": ["GET", "PATCH", "DELETE"]},
    {"path": "/api/tasks/tasks/{task_id}/move", "methods": ["POST"]},
]
COLLECTION = Collection(name="tasks", label="Tasks", endpoint="/api/tasks/tasks", model="TaskRead",
                        update_model="TaskUpdate")
MODELS = {"TaskUpdate": {"properties": {"title": {"type": "string"}, "priority": {"type": "string"}}}}


def _api(routes=ROUTES) -> CollectionApi:
    manifest = ModuleManifest(name="tasks", instance_id="i", base_url="http://x", routes=routes, models=MODELS,
                              collections=[COLLECTION])
    return CollectionApi.of(manifest, COLLECTION)


def test_fields_of_the_update_model_are_patched_and_status_moves() -> None:
    api = _api()
    assert api.update("t1", "title", "New") == ("PATCH", "/api/tasks/tasks/t1", {"title": "New"})
    assert api.update("t1", "status", "done") == ("POST", "/api/tasks/tasks/t1/move", {"status": "done"})
    assert api.editable("status") and api.editable("priority") and not api.editable("completed_at")


def test_bulk_goes_out_as_one_request_on_the_route_the_module_has() -> None:
    api = _api()
    assert api.bulk_fields() == ["status"]
    assert api.bulk(["a", "b"], "status", "done") == (
        "POST", "/api/tasks/tasks/bulk/status", {"ids": ["a", "b"], "status": "done"})
    generic = _api([*ROUTES, {"path": "/api/tasks/tasks/bulk", "methods": ["PATCH"]}])
    assert generic.bulk_fields() == ["status", "priority", "title"]
    assert generic.bulk(["a"], "priority", "high") == (
        "PATCH", "/api/tasks/tasks/bulk", {"ids": ["a"], "changes": {"priority": "high"}})


def test_board_route_is_found() -> None:
    assert _api().board == "/api/tasks/tasks/board"
    assert _api(ROUTES[:1]).board is None


def test_a_workflow_action_goes_to_its_own_route_else_to_the_transition_route() -> None:
    orders = [{"path": "/api/tasks/tasks/{order_id}/transition", "methods": ["POST"]},
              {"path": "/api/tasks/tasks/{order_id}/pay", "methods": ["POST"]}]
    api = _api([*ROUTES, *orders])
    assert api.action("o1", "pay") == ("POST", "/api/tasks/tasks/o1/pay", {})
    assert api.action("o1", "approve") == ("POST", "/api/tasks/tasks/o1/transition", {"action": "approve"})
    assert api.action("o1", "reject", "too dear") == (
        "POST", "/api/tasks/tasks/o1/transition", {"action": "reject", "reason": "too dear"})
    assert api.reasoned("reject") and not api.reasoned("pay")
    assert _api().action("t1", "approve") is None  # a module that serves neither: no button
