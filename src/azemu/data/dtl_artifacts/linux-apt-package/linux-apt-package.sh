#!/bin/sh
set -e
if [ "$1" = "update" ]; then
  apt-get update
fi
shift
apt-get install -y "$@"
echo "Installed: $*"
