// Foxglove message schemas as MCAP schema records, from @foxglove/schemas: CompressedImage as Protobuf
// (images are most of a recording's bytes; base64 JSON would add a third), ImageAnnotations as JSON schema.
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { foxgloveMessageSchemas, generateProto } from '@foxglove/schemas/internal.js';
import { ImageAnnotations } from '@foxglove/schemas/jsonschema.js';

export interface SchemaRecord {
  name: string;
  encoding: string;
  data: Uint8Array;
}

export interface CompressedImageMessage {
  timestamp: { sec: number; nsec: number };
  frame_id: string;
  data: Uint8Array;
  format: string;
}

let imageType: { schema: SchemaRecord; type: protobuf.Type } | undefined;

const TIMESTAMP_FILE = 'google/protobuf/timestamp.proto';

/**
 * foxglove.CompressedImage as a Protobuf schema (a binary FileDescriptorSet) and its type for encoding. The set
 * is written as `protoc --include_imports` writes it: `foxglove/CompressedImage.proto` declaring its import of
 * `google/protobuf/timestamp.proto`, and that file too, so strict decoders (protoc, Go's protodesc, Python's pure
 * protobuf) resolve google.protobuf.Timestamp.
 */
export function compressedImageProtobuf(): { schema: SchemaRecord; encode(m: CompressedImageMessage): Uint8Array } {
  if (!imageType) {
    const root = new protobuf.Root();
    protobuf.parse(generateProto(foxgloveMessageSchemas.CompressedImage, []), root, { keepCase: true });
    root.addJSON(protobufCommonTimestamp());
    root.resolveAll();
    const image = root.lookupType('foxglove.CompressedImage');
    const timestamp = root.lookupType('google.protobuf.Timestamp');
    const set = {
      file: [
        fileDescriptor(TIMESTAMP_FILE, 'google.protobuf', [], timestamp),
        fileDescriptor('foxglove/CompressedImage.proto', 'foxglove', [TIMESTAMP_FILE], image),
      ],
    };
    const data = descriptor.FileDescriptorSet.encode(descriptor.FileDescriptorSet.fromObject(set)).finish();
    imageType = { schema: { name: 'foxglove.CompressedImage', encoding: 'protobuf', data }, type: image };
  }
  const { schema, type } = imageType;
  return {
    schema,
    encode: (m) => type.encode({ timestamp: { seconds: m.timestamp.sec, nanos: m.timestamp.nsec }, frame_id: m.frame_id, data: m.data, format: m.format }).finish(),
  };
}

// FieldDescriptorProto.Type numbers for the scalar types these messages use (descriptor.proto).
const FIELD_TYPES: Record<string, number> = { double: 1, float: 2, int64: 3, uint64: 4, int32: 5, bool: 8, string: 9, bytes: 12, uint32: 13, sint32: 17, sint64: 18 };

/** One proto3 file declaring one message type (singular fields, as Foxglove's image schema has). */
function fileDescriptor(name: string, pkg: string, dependency: string[], type: protobuf.Type): Record<string, unknown> {
  const field = type.fieldsArray.map((f) => {
    if (f.repeated || f.map) throw new Error(`fileDescriptor: ${type.name}.${f.name} is not a singular field`);
    const scalar = FIELD_TYPES[f.type];
    const message = f.resolvedType instanceof protobuf.Type ? f.resolvedType.fullName : undefined;
    if (scalar === undefined && !message) throw new Error(`fileDescriptor: ${type.name}.${f.name} has type ${f.type}`);
    // LABEL_OPTIONAL = 1, TYPE_MESSAGE = 11; a message type is named fully qualified, with the leading dot.
    return { name: f.name, number: f.id, label: 1, type: scalar ?? 11, ...(message ? { typeName: message } : {}), jsonName: f.name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) };
  });
  return { name, package: pkg, dependency, messageType: [{ name: type.name, field }], syntax: 'proto3' };
}

function protobufCommonTimestamp(): NonNullable<protobuf.INamespace['nested']> {
  const common = (protobuf.common as unknown as Record<string, protobuf.INamespace>)['google/protobuf/timestamp.proto'];
  return common!.nested!;
}

/** foxglove.ImageAnnotations as a JSON schema (messages are small JSON documents). */
export function imageAnnotationsJson(): SchemaRecord {
  return { name: 'foxglove.ImageAnnotations', encoding: 'jsonschema', data: new TextEncoder().encode(JSON.stringify(ImageAnnotations)) };
}
