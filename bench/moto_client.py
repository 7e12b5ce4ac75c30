"""The moto side of bench/moto_compare.py, run by moto's own virtualenv: N AMI lifecycles against moto_server.

run_instances -> stop_instances -> create_image -> describe_images -> deregister_image -> terminate_instances
Prints a JSON line: per-lifecycle wall times in seconds.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import boto3


def main() -> None:
    endpoint, count = sys.argv[1], int(sys.argv[2])
    warnings.filterwarnings("ignore")
    ec2 = boto3.client(
        "ec2",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        verify=False,
    )
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    times = []
    for i in range(count):
        started = time.perf_counter()
        instance = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro")
        iid = instance["Instances"][0]["InstanceId"]
        ec2.stop_instances(InstanceIds=[iid])
        image = ec2.create_image(InstanceId=iid, Name=f"img-{time.time_ns()}-{i}")
        ec2.describe_images(ImageIds=[image["ImageId"]])
        ec2.deregister_image(ImageId=image["ImageId"])
        ec2.terminate_instances(InstanceIds=[iid])
        times.append(time.perf_counter() - started)
    print(json.dumps(times))


if __name__ == "__main__":
    main()
