"""Azure Backup of virtual machines (``Microsoft.RecoveryServices/vaults/backup*``), on azemu's clock.

* ``policies``   VM backup policies: daily / weekly (and V2 hourly) schedules, daily to yearly retention,
                 instant-restore snapshot retention; the schedule and expiry arithmetic;
* ``jobs``       backup jobs: records with Azure's operations, states, tasks and durations, each driven by an
                 operation on the clock that always ends;
* ``protection`` protection containers, protectable and protected items: enable, change policy, stop with
                 retain / delete data (soft delete, undelete, resume), the per-item schedule chain;
* ``points``     recovery points: content shared copy-on-write with the VM's disks (a point costs
                 metadata), their tiers (snapshot, then vault), consistency as Azure decides it, expiry;
* ``restore``    restore disks (and the VM template Azure writes), a new VM (alternate location), the
                 original VM's disks replaced (original location);
* ``service``    the composition: the kinds bound to the registry, the operations the API polls.
"""
