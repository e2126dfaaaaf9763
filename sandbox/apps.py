from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = "Sandbox (Twilio emulator)"

    def ready(self) -> None:
        from providers.registry import register
        from sandbox.ai_kind import KIND as AI_KIND
        from sandbox.kind import KIND

        register(KIND)
        register(AI_KIND)
