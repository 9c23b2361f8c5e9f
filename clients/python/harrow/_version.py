"""The SDK's version and the contract it was generated from.

The version follows the contract: the major is the API version of the proto
package (`harrow.v1` → 1); the generator raises the minor whenever the
contract's descriptors change (`CONTRACT_SHA256` records which), and
hand-written fixes to the SDK raise the patch.
"""

__version__ = "1.1.0"
CONTRACT_SHA256 = "f14d90de73266190c6bcfd7e3a2386cc2aa718cb44d4840da95f4167d7e58d5d"
