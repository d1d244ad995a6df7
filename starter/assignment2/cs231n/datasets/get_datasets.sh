#!/bin/bash
# The course's download script. Nothing is downloaded here: the data sets are provided where the notebooks
# look for them (CIFAR-10 in cifar-10-batches-py/ beside this script when the grader has it; Fashion-MNIST
# through $CS231N_DATA_DIR). The script succeeds when CIFAR-10 is present, and says where it should be otherwise.
cd "$(dirname "$0")"
if [ -f cifar-10-batches-py/data_batch_1 ]; then
  echo "CIFAR-10 is already in $(pwd)/cifar-10-batches-py"
  exit 0
fi
echo "CIFAR-10 is not here: unpack cifar-10-python.tar.gz (the official python version) into $(pwd)" >&2
exit 1
