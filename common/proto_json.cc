#include "common/proto_json.h"

#include "absl/strings/escaping.h"
#include "google/protobuf/descriptor.h"

namespace sluice {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Unset sub-messages are rendered from their default instance; the depth bound keeps a
// (hypothetical) self-recursive message type finite.
constexpr int kMaxDepth = 32;

nlohmann::json MessageToJson(const Message& message, int depth);

nlohmann::json ValueToJson(const Message& message, const FieldDescriptor* field, int index,
                           int depth) {
  const Reflection* r = message.GetReflection();
  const bool repeated = index >= 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return repeated ? r->GetRepeatedInt32(message, field, index) : r->GetInt32(message, field);
    case FieldDescriptor::CPPTYPE_INT64:
      return repeated ? r->GetRepeatedInt64(message, field, index) : r->GetInt64(message, field);
    case FieldDescriptor::CPPTYPE_UINT32:
      return repeated ? r->GetRepeatedUInt32(message, field, index)
                      : r->GetUInt32(message, field);
    case FieldDescriptor::CPPTYPE_UINT64:
      return repeated ? r->GetRepeatedUInt64(message, field, index)
                      : r->GetUInt64(message, field);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return repeated ? r->GetRepeatedDouble(message, field, index)
                      : r->GetDouble(message, field);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return repeated ? r->GetRepeatedFloat(message, field, index) : r->GetFloat(message, field);
    case FieldDescriptor::CPPTYPE_BOOL:
      return repeated ? r->GetRepeatedBool(message, field, index) : r->GetBool(message, field);
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = repeated ? r->GetRepeatedEnumValue(message, field, index)
                                  : r->GetEnumValue(message, field);
      const auto* value = field->enum_type()->FindValueByNumber(number);
      if (value == nullptr) return number;
      return value->name();
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string s = repeated ? r->GetRepeatedString(message, field, index)
                               : r->GetString(message, field);
      if (field->type() == FieldDescriptor::TYPE_BYTES) return absl::Base64Escape(s);
      return s;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageToJson(repeated ? r->GetRepeatedMessage(message, field, index)
                                    : r->GetMessage(message, field),
                           depth + 1);
  }
  return nullptr;
}

nlohmann::json MapKey(const Message& entry) {
  const FieldDescriptor* key = entry.GetDescriptor()->map_key();
  nlohmann::json value = ValueToJson(entry, key, -1, 0);
  return value.is_string() ? value.get<std::string>() : value.dump();
}

nlohmann::json MessageToJson(const Message& message, int depth) {
  if (depth > kMaxDepth) return nullptr;
  const auto* descriptor = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  nlohmann::json result = nlohmann::json::object();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->real_containing_oneof() != nullptr && !r->HasField(message, field)) continue;
    if (field->is_map()) {
      nlohmann::json map = nlohmann::json::object();
      for (int j = 0; j < r->FieldSize(message, field); ++j) {
        const Message& entry = r->GetRepeatedMessage(message, field, j);
        map[MapKey(entry).get<std::string>()] =
            ValueToJson(entry, field->message_type()->map_value(), -1, depth + 1);
      }
      result[field->name()] = std::move(map);
    } else if (field->is_repeated()) {
      nlohmann::json array = nlohmann::json::array();
      for (int j = 0; j < r->FieldSize(message, field); ++j) {
        array.push_back(ValueToJson(message, field, j, depth));
      }
      result[field->name()] = std::move(array);
    } else {
      result[field->name()] = ValueToJson(message, field, -1, depth);
    }
  }
  return result;
}

}  // namespace

nlohmann::json ProtoToJson(const google::protobuf::Message& message) {
  return MessageToJson(message, 0);
}


}  // namespace sluice
