"""The activation family and their derivatives, as fastdnn's engine computes them, in one PNG.

    python examples/activations.py [--out plots/]

It only draws: without matplotlib (pip install "fastdnn[plot]") it says so and exits.
"""

import argparse
import os

import fastdnn as keras

import optional_extras

ACTIVATIONS = ["relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh", "softplus", "swish", "gelu"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="plots/", help="output folder (default: plots/)")
    parser.add_argument("--epochs", type=int, default=None, help="accepted like the other examples; unused (nothing is trained)")
    args = parser.parse_args()

    path = os.path.join(args.out, "activations.png")
    optional_extras.draw("activations.png", keras.utils.plot_activations, ACTIVATIONS, path=path)
    optional_extras.report(args.out)


if __name__ == "__main__":
    main()
