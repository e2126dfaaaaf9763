from __future__ import annotations

from rest_framework import serializers

from phones.models import Trunk


class OriginationUrlSerializer(serializers.Serializer):
    sid = serializers.CharField(help_text="The provider's id of the origination URL.")
    sipUrl = serializers.CharField(help_text="Where the trunk sends the calls it takes (sip:…).")
    priority = serializers.IntegerField(help_text="Lower is tried first.")
    weight = serializers.IntegerField(help_text="Share of the calls among URLs of the same priority.")
    enabled = serializers.BooleanField()
    friendlyName = serializers.CharField(allow_blank=True)


class TrunkSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    sid = serializers.CharField(source="provider_sid", help_text="The provider's id of the trunk (Twilio: TK…).")
    name = serializers.CharField(source="friendly_name", help_text="Its friendly name at the provider.")
    domainName = serializers.CharField(source="domain_name", help_text="Its termination domain (….pstn.twilio.com).")
    originationUrls = OriginationUrlSerializer(source="origination_urls", many=True)
    connectionId = serializers.CharField(source="connection.public_id",
                                         help_text="The provider connection (GET /integrations) it belongs to.")
    numberCount = serializers.SerializerMethodField(help_text="The org's live numbers assigned to it.")
    syncedAt = serializers.DateTimeField(source="synced_at", help_text="When the provider last told us about it.")

    class Meta:
        model = Trunk
        fields = ["id", "sid", "name", "domainName", "originationUrls", "connectionId", "numberCount", "syncedAt"]
        read_only_fields = fields

    def get_numberCount(self, obj: Trunk) -> int:
        return getattr(obj, "live_numbers", 0)
