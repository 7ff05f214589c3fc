"""The cluster's instance fleets and managed scaling: what the post configures, and how arguments become it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_emr as emr

#: Capacity at launch, in instance-fleet units: the post's minimum, of which one r6g.2xlarge on the task fleet.
DEFAULT_LAUNCH_UNITS = 64
DEFAULT_TASK_UNITS = 8


@dataclass(frozen=True)
class FleetInstanceType:
    """One instance type of an instance fleet: its weight in fleet units and its EBS data volume."""

    instance_type: str
    weighted_capacity: int
    ebs_size_gib: int


#: The post's primary fleet: r6g.xlarge or r6g.2xlarge, 250 GiB EBS, one unit each.
PRIMARY_INSTANCE_TYPES = (FleetInstanceType("r6g.xlarge", 1, 250), FleetInstanceType("r6g.2xlarge", 1, 250))
#: The post's core and task fleets: r6g.2xlarge (8 units) and r6g.4xlarge (16 units), 100 GiB EBS.
WORKER_INSTANCE_TYPES = (FleetInstanceType("r6g.2xlarge", 8, 100), FleetInstanceType("r6g.4xlarge", 16, 100))


@dataclass(frozen=True)
class InstanceFleets:
    """The three fleets as the arguments give them: instance types, and (On-Demand, Spot) units at launch."""

    primary: Sequence[FleetInstanceType]
    core: Sequence[FleetInstanceType]
    task: Sequence[FleetInstanceType]
    primary_on_demand: bool
    core_units: tuple[int, int]
    task_units: tuple[int, int]
    spot_percent: int

    @classmethod
    def with_defaults(
        cls,
        *,
        primary: Sequence[FleetInstanceType],
        core: Sequence[FleetInstanceType],
        task: Sequence[FleetInstanceType],
        primary_on_demand: bool,
        core_on_demand_units: int | None,
        core_spot_units: int,
        task_on_demand_units: int | None,
        task_spot_units: int,
        spot_price_percent_of_on_demand: int,
    ) -> InstanceFleets:
        """The fleets, with the On-Demand units left out filled in.

        The launch capacity follows the task fleet: the post's minimum of 64 units as 56 core + 8 task (EMR
        refuses a task fleet without capacity), or all 64 on core when ``task_instance_types=()``.
        """
        if task_on_demand_units is None:
            task_on_demand_units = DEFAULT_TASK_UNITS if task else 0
        if core_on_demand_units is None:
            core_on_demand_units = DEFAULT_LAUNCH_UNITS - (DEFAULT_TASK_UNITS if task else 0)
        return cls(
            primary=primary,
            core=core,
            task=task,
            primary_on_demand=primary_on_demand,
            core_units=(core_on_demand_units, core_spot_units),
            task_units=(task_on_demand_units, task_spot_units),
            spot_percent=spot_price_percent_of_on_demand,
        )

    @property
    def types(self) -> dict[str, Sequence[FleetInstanceType]]:
        """Each fleet's instance types, by the name its arguments start with."""
        return {"primary": self.primary, "core": self.core, "task": self.task}

    @property
    def launch_units(self) -> int:
        """The core and task units at launch."""
        return sum(self.core_units) + sum(self.task_units)

    def primary_fleet(self) -> emr.CfnCluster.InstanceFleetConfigProperty:
        on_demand = 1 if self.primary_on_demand else 0
        spot = 0 if self.primary_on_demand else 1
        return _fleet("primary", self.primary, on_demand=on_demand, spot=spot, spot_percent=self.spot_percent)

    def core_fleet(self) -> emr.CfnCluster.InstanceFleetConfigProperty:
        on_demand, spot = self.core_units
        return _fleet("core", self.core, on_demand=on_demand, spot=spot, spot_percent=self.spot_percent)

    def task_fleets(self) -> list[emr.CfnCluster.InstanceFleetConfigProperty] | None:
        if not self.task:
            return None
        on_demand, spot = self.task_units
        return [_fleet("task", self.task, on_demand=on_demand, spot=spot, spot_percent=self.spot_percent)]


@dataclass(frozen=True)
class ScalingLimits:
    """EMR managed scaling's compute limits, in instance-fleet units."""

    minimum: int
    maximum: int
    maximum_on_demand: int
    maximum_core: int

    def policy(self) -> emr.CfnCluster.ManagedScalingPolicyProperty:
        return emr.CfnCluster.ManagedScalingPolicyProperty(
            compute_limits=emr.CfnCluster.ComputeLimitsProperty(
                unit_type="InstanceFleetUnits",
                minimum_capacity_units=self.minimum,
                maximum_capacity_units=self.maximum,
                maximum_on_demand_capacity_units=self.maximum_on_demand,
                maximum_core_capacity_units=self.maximum_core,
            )
        )


def _fleet(
    name: str, types: Sequence[FleetInstanceType], *, on_demand: int, spot: int, spot_percent: int
) -> emr.CfnCluster.InstanceFleetConfigProperty:
    return emr.CfnCluster.InstanceFleetConfigProperty(
        name=name,
        target_on_demand_capacity=on_demand if name != "primary" or on_demand else None,
        target_spot_capacity=spot if name != "primary" or spot else None,
        instance_type_configs=[
            emr.CfnCluster.InstanceTypeConfigProperty(
                instance_type=t.instance_type,
                weighted_capacity=t.weighted_capacity,
                bid_price_as_percentage_of_on_demand_price=spot_percent,
                ebs_configuration=emr.CfnCluster.EbsConfigurationProperty(
                    ebs_optimized=True,
                    ebs_block_device_configs=[
                        emr.CfnCluster.EbsBlockDeviceConfigProperty(
                            volume_specification=emr.CfnCluster.VolumeSpecificationProperty(
                                size_in_gb=t.ebs_size_gib, volume_type="gp3"
                            ),
                            volumes_per_instance=1,
                        )
                    ],
                ),
            )
            for t in types
        ],
        launch_specifications=emr.CfnCluster.InstanceFleetProvisioningSpecificationsProperty(
            # The primary fleet gets only the specification of its one purchasing option; core and task fleets
            # get both, because managed scaling adds Spot when the On-Demand limit is below the maximum.
            on_demand_specification=(
                emr.CfnCluster.OnDemandProvisioningSpecificationProperty(allocation_strategy="lowest-price")
                if name != "primary" or on_demand
                else None
            ),
            spot_specification=(
                emr.CfnCluster.SpotProvisioningSpecificationProperty(
                    allocation_strategy="price-capacity-optimized",
                    timeout_action="SWITCH_TO_ON_DEMAND",
                    timeout_duration_minutes=20,
                )
                if name != "primary" or spot
                else None
            ),
        ),
    )
