"""HTTP/1.1 pieces shared by the server variants: response framing and the cached `Date`."""
