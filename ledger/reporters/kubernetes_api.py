"""Reading pods through the Kubernetes API with kubernetes_asyncio: the pod's service account
when running in a cluster, else a kubeconfig file (``KUBECONFIG`` or ``~/.kube/config``)."""

from __future__ import annotations

import json
from typing import Any

from ledger.reporters.kubernetes import Pod, pods_of


async def list_pods(
    namespace: str | None, selector: str | None, kubeconfig: str | None = None
) -> list[Pod]:
    """The pods of ``namespace`` (of every namespace when None) that match the label selector,
    as the API's JSON: ``GET /api/v1/namespaces/{namespace}/pods?labelSelector=…``."""
    # kubernetes_asyncio and its generated models take a second to import, which every other
    # `ledger` command (and `ledger --help`) would pay for nothing.
    # on demand: the Kubernetes client is heavy and only this command needs it
    from kubernetes_asyncio import client

    configuration = await _configuration(kubeconfig)
    async with client.ApiClient(configuration) as api:
        core = client.CoreV1Api(api)
        query: dict[str, Any] = {"_preload_content": False}
        if selector:
            query["label_selector"] = selector
        if namespace:
            response: Any = await core.list_namespaced_pod(namespace, **query)
        else:
            response = await core.list_pod_for_all_namespaces(**query)
        # _preload_content=False: the API's JSON as it came, the shape kubectl prints
        return pods_of(json.loads(await response.read()))


async def _configuration(kubeconfig: str | None) -> Any:
    """In a pod: its service account; elsewhere (or with a file given): the kubeconfig."""
    # on demand: the Kubernetes client is heavy and only this command needs it
    from kubernetes_asyncio import client, config

    configuration = client.Configuration()
    if kubeconfig is None:
        try:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        except config.ConfigException:
            pass
        else:
            return configuration
    await config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    return configuration
