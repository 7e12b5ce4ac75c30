"""Users' own templates with the real az CLI: `az deployment group create|validate|what-if|export`,
`az deployment operation group list`, `az deployment sub create`, with the seed's gallery chain as the
template (gallery -> definition -> version from a managed image, `copy` over the target regions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import gallerykit as gk
from tests import vmkit
from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]
RG = "depRG"

# az sends --template-file verbatim, comments included: ARM reads JSON with comments
GALLERY_TEMPLATE = """{
  // the seed's gallery chain
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "galleryName": {"type": "string"},
    "imageId": {"type": "string"},
    "regions": {"type": "array", "defaultValue": [{"name": "eastus", "replicas": 2}, {"name": "westeurope", "replicas": 1}]},
    "version": {"type": "string", "defaultValue": "1.0.0", "allowedValues": ["1.0.0", "1.0.1"]}
  },
  "variables": {"definition": "[concat(parameters('galleryName'), '/webImage')]"},
  "resources": [
    {"type": "Microsoft.Compute/galleries", "apiVersion": "2022-03-03", "name": "[parameters('galleryName')]",
     "location": "[resourceGroup().location]", "properties": {"description": "seed gallery"}},
    {"type": "Microsoft.Compute/galleries/images", "apiVersion": "2022-03-03", "name": "[variables('definition')]",
     "location": "[resourceGroup().location]",
     "dependsOn": ["[resourceId('Microsoft.Compute/galleries', parameters('galleryName'))]"],
     "properties": {"osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
                    "identifier": {"publisher": "contoso", "offer": "web", "sku": "[uniqueString(resourceGroup().id)]"}}},
    {"type": "Microsoft.Compute/galleries/images/versions", "apiVersion": "2022-03-03",
     "name": "[concat(variables('definition'), '/', parameters('version'))]", "location": "[resourceGroup().location]",
     "dependsOn": ["[resourceId('Microsoft.Compute/galleries/images', parameters('galleryName'), 'webImage')]"],
     "properties": {
       "publishingProfile": {
         "copy": [{"name": "targetRegions", "count": "[length(parameters('regions'))]",
                   "input": {"name": "[parameters('regions')[copyIndex('targetRegions')].name]",
                             "regionalReplicaCount": "[parameters('regions')[copyIndex('targetRegions')].replicas]"}}]
       },
       "storageProfile": {"source": {"id": "[parameters('imageId')]"}}
     }},
  ],
  "outputs": {
    "versionId": {"type": "string",
      "value": "[resourceId('Microsoft.Compute/galleries/images/versions', parameters('galleryName'), 'webImage', parameters('version'))]"},
    "ReplicaCount": {"type": "int",
      "value": "[reference(resourceId('Microsoft.Compute/galleries/images/versions', parameters('galleryName'), 'webImage', parameters('version'))).publishingProfile.targetRegions[0].regionalReplicaCount]"}
  }
}
"""


@pytest.fixture(scope="module")
def files(azemu, tmp_path_factory):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, RG)
    image = gk.generalized_image(c, RG, "img")
    root = tmp_path_factory.mktemp("templates")
    (root / "gallery.json").write_text(GALLERY_TEMPLATE)
    (root / "params.json").write_text(
        json.dumps(
            {
                "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
                "contentVersion": "1.0.0.0",
                "parameters": {"galleryName": {"value": "seedGallery"}, "imageId": {"value": image.id}},
            }
        )
    )
    return root


def deploy(azemu, files: Path, *args: str):
    return azemu.az(
        "deployment", "group", "create", "-g", RG, "--template-file", str(files / "gallery.json"),
        "--parameters", f"@{files / 'params.json'}", *args, "-o", "json",
    )  # fmt: skip


def test_a_user_template_builds_the_gallery_chain(azemu, files):
    done = deploy(azemu, files, "-n", "chain")
    assert done.returncode == 0, done.stderr
    dep = json.loads(done.stdout)
    props = dep["properties"]
    assert props["provisioningState"] == "Succeeded" and props["mode"] == "Incremental"
    assert props["outputs"]["versionId"]["value"].endswith(
        "/galleries/seedGallery/images/webImage/versions/1.0.0"
    )
    assert props["outputs"]["replicaCount"] == {"type": "Int", "value": 2}  # camelCased as ARM does
    assert props["parameters"]["version"] == {"type": "String", "value": "1.0.0"}
    assert len(props["outputResources"]) == 3 and props["duration"].startswith("PT")
    version = azemu.az_json(
        "sig", "image-version", "show", "-g", RG, "-r", "seedGallery", "-i", "webImage", "-e", "1.0.0"
    )
    regions = {t["name"]: t["regionalReplicaCount"] for t in version["publishingProfile"]["targetRegions"]}
    assert regions == {"East US": 2, "West Europe": 1}
    ops = azemu.az_json("deployment", "operation", "group", "list", "-g", RG, "-n", "chain")
    targets = sorted(o["properties"]["targetResource"]["resourceType"] for o in ops)
    assert targets == [
        "Microsoft.Compute/galleries",
        "Microsoft.Compute/galleries/images",
        "Microsoft.Compute/galleries/images/versions",
    ]
    assert {o["properties"]["provisioningState"] for o in ops} == {"Succeeded"}
    exported = azemu.az_json("deployment", "group", "export", "-g", RG, "-n", "chain")
    assert exported["parameters"]["version"]["allowedValues"] == ["1.0.0", "1.0.1"]
    assert [d["name"] for d in azemu.az_json("deployment", "group", "list", "-g", RG)] == ["chain"]


def test_validate_refuses_a_bad_parameter_with_arms_words(azemu, files):
    done = azemu.az(
        "deployment", "group", "validate", "-g", RG, "--template-file", str(files / "gallery.json"),
        "--parameters", f"@{files / 'params.json'}", "version=2.0.0",
    )  # fmt: skip
    assert done.returncode != 0
    assert "InvalidTemplate" in done.stderr
    assert "The provided value '2.0.0' for the template parameter 'version'" in done.stderr
    assert (
        "properties.template.parameters.version" in done.stderr
    )  # where, as TemplateViolation additionalInfo


def test_what_if_against_an_existing_group(azemu, files):
    deploy(azemu, files, "-n", "chain2")
    done = azemu.az(
        "deployment", "group", "what-if", "-g", RG, "--template-file", str(files / "gallery.json"),
        "--parameters", f"@{files / 'params.json'}", "version=1.0.1", "--no-pretty-print",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    changes = {c["resourceId"].rsplit("/providers/", 1)[1]: c for c in json.loads(done.stdout)["changes"]}
    assert (
        changes["Microsoft.Compute/galleries/seedGallery/images/webImage/versions/1.0.1"]["changeType"]
        == "Create"
    )
    assert changes["Microsoft.Compute/galleries/seedGallery"]["changeType"] == "NoChange"
    assert changes["Microsoft.Compute/images/img"]["changeType"] == "Ignore"
    pretty = azemu.az(
        "deployment", "group", "what-if", "-g", RG, "--template-file", str(files / "gallery.json"),
        "--parameters", f"@{files / 'params.json'}", "version=1.0.1",
    )  # fmt: skip
    assert "Resource changes: 1 to create" in pretty.stdout
    # a tag change on the gallery is a Modify with its property-level delta
    changed = (
        (files / "gallery.json").read_text().replace('"description": "seed gallery"', '"description": "v2"')
    )
    (files / "changed.json").write_text(changed)
    done = azemu.az(
        "deployment", "group", "what-if", "-g", RG, "--template-file", str(files / "changed.json"),
        "--parameters", f"@{files / 'params.json'}", "--no-pretty-print",
    )  # fmt: skip
    gallery = next(
        c for c in json.loads(done.stdout)["changes"] if c["resourceId"].endswith("/galleries/seedGallery")
    )
    assert gallery["changeType"] == "Modify"
    assert gallery["delta"] == [
        {"path": "properties.description", "propertyChangeType": "Modify", "before": "seed gallery", "after": "v2",
         "children": None}
    ]  # fmt: skip


def test_subscription_deployment_creates_a_group_and_deploys_into_it(azemu, tmp_path):
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"rg": {"type": "string", "defaultValue": "subRG"}},
        "resources": [
            {"type": "Microsoft.Resources/resourceGroups", "apiVersion": "2022-09-01", "name": "[parameters('rg')]",
             "location": "westeurope", "tags": {"made-by": "deployment"}},
            {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "intoGroup",
             "resourceGroup": "[parameters('rg')]",
             "dependsOn": ["[subscriptionResourceId('Microsoft.Resources/resourceGroups', parameters('rg'))]"],
             "properties": {
                 "mode": "Incremental",
                 "expressionEvaluationOptions": {"scope": "inner"},
                 "parameters": {"prefix": {"value": "[parameters('rg')]"}},
                 "template": {
                     "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                     "contentVersion": "1.0.0.0",
                     "parameters": {"prefix": {"type": "string"}},
                     "resources": [
                         {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01",
                          "name": "[concat(parameters('prefix'), '-nsg')]", "location": "[resourceGroup().location]"}
                     ],
                     "outputs": {"where": {"type": "string", "value": "[resourceGroup().location]"}},
                 },
             }},
        ],
        "outputs": {"nested": {"type": "string", "value": "[reference('intoGroup').outputs.where.value]"}},
    }  # fmt: skip
    path = tmp_path / "sub.json"
    path.write_text(json.dumps(template))
    dep = azemu.az_json(
        "deployment", "sub", "create", "-l", "eastus", "-n", "subdep", "--template-file", str(path)
    )
    assert dep["properties"]["provisioningState"] == "Succeeded"
    assert dep["properties"]["outputs"]["nested"]["value"] == "westeurope"
    assert azemu.az_json("group", "show", "-n", "subRG")["tags"] == {"made-by": "deployment"}
    assert (
        azemu.az_json("network", "nsg", "show", "-g", "subRG", "-n", "subRG-nsg")["location"] == "westeurope"
    )
    nested = azemu.az_json("deployment", "group", "show", "-g", "subRG", "-n", "intoGroup")
    assert nested["properties"]["provisioningState"] == "Succeeded"


def test_a_failure_deep_in_a_nested_template_comes_back_with_its_path(azemu, tmp_path):
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01", "name": "fine",
             "location": "eastus"},
            {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "inner",
             "properties": {
                 "mode": "Incremental",
                 "template": {
                     "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                     "contentVersion": "1.0.0.0",
                     "resources": [
                         {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "badnet",
                          "location": "eastus",
                          "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/33"]}}}
                     ],
                 },
             }},
        ],
    }  # fmt: skip
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(template))
    done = azemu.az("deployment", "group", "create", "-g", RG, "-n", "broken", "--template-file", str(path))
    assert done.returncode != 0
    assert "DeploymentFailed" in done.stderr and "InvalidAddressPrefixFormat" in done.stderr
    dep = azemu.az_json("deployment", "group", "show", "-g", RG, "-n", "broken")
    assert dep["properties"]["provisioningState"] == "Failed"
    inner = dep["properties"]["error"]["details"][0]
    assert inner["code"] == "DeploymentFailed" and inner["details"][0]["code"] == "InvalidAddressPrefixFormat"
    # incremental mode: what was deployed stays
    assert azemu.az_json("network", "nsg", "show", "-g", RG, "-n", "fine")["name"] == "fine"
    ops = azemu.az_json("deployment", "operation", "group", "list", "-g", RG, "-n", "inner")
    failed = [o for o in ops if o["properties"]["provisioningState"] == "Failed"]
    assert failed[0]["properties"]["targetResource"]["resourceName"] == "badnet"
    assert failed[0]["properties"]["statusMessage"]["error"]["code"] == "InvalidAddressPrefixFormat"
