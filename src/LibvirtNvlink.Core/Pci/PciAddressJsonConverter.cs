using System.Text.Json;
using System.Text.Json.Serialization;

namespace LibvirtNvlink.Pci;

/// <summary>A PCI address in JSON as sysfs names it ("0004:04:00.0"), exactly: anything else is not an address.</summary>
public sealed class PciAddressJsonConverter : JsonConverter<PciAddress>
{
    public override PciAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        if (!PciAddress.TryParse(text, out var address, out var error) || address.ToString() != text) throw new JsonException(error);
        return address;
    }

    public override void Write(Utf8JsonWriter writer, PciAddress value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
