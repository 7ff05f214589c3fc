"""What every example stack shares."""

from __future__ import annotations

import aws_cdk as cdk

#: How many of the Region's zones an example stack may use.
EXAMPLE_AZ_COUNT = 3


class ExampleStack(cdk.Stack):
    """A stack whose Availability Zones CloudFormation picks at deploy time.

    An environment-specific stack otherwise looks its AZs up when a VPC asks
    for them, and ``cdk synth`` then needs AWS credentials. These are the
    Region's first zones (``Fn::GetAZs``); a VPC given zone names explicitly
    keeps them.
    """

    @property
    def availability_zones(self) -> list[str]:
        return [cdk.Fn.select(index, cdk.Fn.get_azs()) for index in range(EXAMPLE_AZ_COUNT)]
