"""The SDK's version and the contract it was generated from.

The version follows the contract: the major is the API version of the proto
package (`harrow.v1` → 1); the generator raises the minor whenever the
contract's descriptors change (`CONTRACT_SHA256` records which), and
hand-written fixes to the SDK raise the patch.
"""

__version__ = "1.3.0"
CONTRACT_SHA256 = "111c5e6b3d4689e074288641fe02f523ab951b958aba698e9f6d7580394f0817"
