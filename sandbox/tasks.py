"""The sandbox's periodic work: delivery receipts for the texts it accepted (sandbox.receipts)."""
from celery import shared_task


@shared_task(name="sandbox.tasks.post_delivery_receipts")
def post_delivery_receipts() -> int:
    from sandbox.receipts import sandbox_receipts_post

    return sandbox_receipts_post()
