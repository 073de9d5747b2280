"""The Volcengine visual front: ``POST /?Action=...&Version=...`` signed with HMAC-SHA256 (service ``cv``).

Actions CVProcess and Img2ImgAnimeAcceleratedMaintainID (synchronous), CVSync2AsyncSubmitTask /
CVSync2AsyncGetResult and CVSubmitTask / CVGetResult (asynchronous) and CVCancelTask; the models
(``req_key``) in :mod:`.models`; errors from :mod:`.errors`, the front's one table.
"""

from __future__ import annotations

from restyle.api.fronts.volc.routes import router

__all__ = ["router"]
