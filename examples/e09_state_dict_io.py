"""E09: the seed's .pth save/load, with .pth read only through torch.load(weights_only=True).

    python examples/e09_state_dict_io.py                     # JAX: round trips through .pth, .safetensors, .npz
    python examples/e09_state_dict_io.py --framework torch   # the seed's torch.save / load_state_dict
    jaxport run E05 --save model.pth                         # any training example: save what it trained
    jaxport run E05 --init model.pth                         # ... and start from it (.pth, .safetensors, .npz, .json)

The port is jaxport/examples/e09_state_dict_io.py; the file formats are jaxport/checkpoint.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E09", *sys.argv[1:]]))
