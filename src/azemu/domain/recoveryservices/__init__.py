"""Recovery Services (``Microsoft.RecoveryServices``): the vault both Azure Backup (``domain/backup``) and
Azure Site Recovery (``domain/siterecovery``) keep their resources in, and what those two share - child
records under a vault, vault-scoped jobs on azemu's clock, timestamps as the service writes them."""
