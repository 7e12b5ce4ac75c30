"""Azure Site Recovery, Azure to Azure (``Microsoft.RecoveryServices/vaults/replication*``), on azemu's clock.

* ``jobs``        ASR jobs (``replicationJobs``): every ASR request that changes something is one, with its
                  tasks, on the clock; its ``Location`` answers with the resource it acted on when it ends;
* ``config``      fabrics (one per Azure region), protection containers, container mappings and
                  replication policies (recovery point retention, app-consistent frequency);
* ``replication`` replicated items: enabling replication (initial replication, then a point every
                  crash-consistent interval, app-consistent ones as the policy says, sharing content with the
                  VM's disks), RPO, retention; test failover into an isolated network and its cleanup,
                  planned and unplanned failover to a chosen point, commit, re-protect and fail back;
* ``plans``       recovery plans: groups of replicated items failed over (and tested, committed,
                  re-protected) group by group;
* ``service``     the composition: the kinds bound to the registry, the operations the API polls.

A failed-over (or test) VM is a *specialized* copy of its source at the chosen point: same computer name,
SID and host keys as the source had then.
"""
