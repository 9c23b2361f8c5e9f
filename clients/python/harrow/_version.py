"""The SDK's version and the contract it was generated from.

The version follows the contract: the major is the API version of the proto
package (`harrow.v1` → 1); the generator raises the minor whenever the
contract's descriptors change (`CONTRACT_SHA256` records which), and
hand-written fixes to the SDK raise the patch.
"""

__version__ = "1.2.0"
CONTRACT_SHA256 = "3db81e01ee9326cca9d45182dd50cae88a161dbb4902d47b8459d59d18843b5c"
