"""The SDK's version and the contract it was generated from.

The version follows the contract: the major is the API version of the proto
package (`harrow.v1` → 1); the generator raises the minor whenever the
contract's descriptors change (`CONTRACT_SHA256` records which), and
hand-written fixes to the SDK raise the patch.
"""

__version__ = "1.0.0"
CONTRACT_SHA256 = "4e9f1a7d451ef1a89ec8ac606d255fe2608b773c17493a5f1859ca8b4dea18eb"
