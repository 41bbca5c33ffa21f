// The test page: the unmodified TapTalk web SDK, with a thin layer that lets the driver call
// it and see what it reports. One page is one logged-in user (the SDK keeps module state).
import * as sdk from "@taptalk.io/web-sdk";

const seen = [];
window.seen = seen;
window.sdk = sdk;

function record(kind, message) {
  seen.push({ kind, message: JSON.parse(JSON.stringify(message)) });
}

window.login = (apiBase, appId, appSecret, ticket) =>
  new Promise((resolve, reject) => {
    sdk.taptalk.init(appId, appSecret, apiBase);
    sdk.taptalk.addTapListener({
      onTapTalkRefreshTokenExpired: () => seen.push({ kind: "loggedOut" }),
    });
    sdk.tapCoreChatRoomManager.addMessageListener({
      onReceiveNewMessage: (m) => record("new", m),
      onReceiveUpdateMessage: (m) => record("update", m),
    });
    sdk.tapCoreContactManager.addContactListener({
      onContactBlocked: (user) => record("blocked", user),
      onContactUnblocked: (user) => record("unblocked", user),
    });
    sdk.tapCoreChatRoomManager.addRoomStatusListener({
      onReceiveStartTyping: () => {},
      onReceiveStopTyping: () => {},
      onReceiveOnlineStatus: () => {},
      onReceiveScheduledMessage: (room, timestamp) => record("scheduled", { room, timestamp }),
    });
    sdk.tapCoreRoomListManager.addRoomListListener({
      onChatRoomDeleted: (roomID) => record("roomCleared", { roomID }),
    });
    sdk.taptalk.authenticateWithAuthTicket(ticket, false, {
      onSuccess: () =>
        sdk.taptalk.connect({
          // As an app does: the pinned rooms first, so that the room list puts them on top.
          onSuccess: () =>
            sdk.tapCoreRoomListManager.getPinnedRoomID({
              onSuccess: (pinned) =>
                sdk.tapCoreRoomListManager.getRoomListAndRead({
                  onSuccess: (list) => resolve({ list: summary(list), pinned: Object.keys(pinned) }),
                  onError: (code, message) => reject(new Error(`room list: ${code} ${message}`)),
                }),
              onError: (code, message) => reject(new Error(`pinned rooms: ${code} ${message}`)),
            }),
          onClose: () => seen.push({ kind: "closed" }),
          onError: (e) => reject(new Error(`connect: ${e}`)),
        }),
      onError: (code, message) => reject(new Error(`login: ${code} ${message}`)),
    });
  });

function summary(list) {
  const out = {};
  for (const [roomID, entry] of Object.entries(list)) {
    out[roomID] = {
      unreadCount: entry.unreadCount,
      lastBody: entry.lastMessage.body,
      lastType: entry.lastMessage.type,
      name: entry.lastMessage.room.name,
    };
  }
  return out;
}

window.me = () => sdk.taptalk.getTaptalkActiveUser();

window.personalRoom = (userID) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreChatRoomManager.createRoomWithUserID(userID, (result) =>
      result.success ? resolve(result.room) : reject(new Error(JSON.stringify(result.error))),
    ),
  );

window.roomByXcID = (xcRoomID) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreRoomListManager.getRoomByXcID(xcRoomID, {
      onSuccess: (data) => resolve(data.room),
      onError: (code, message) => reject(new Error(`${code} ${message}`)),
    }),
  );

window.sendText = (room, text) =>
  new Promise((resolve) => sdk.tapCoreMessageManager.sendTextMessage(text, room, (m) => resolve(m.localID)));

window.markRead = (messageIDs) => sdk.tapCoreMessageManager.markMessageAsRead(messageIDs);

window.older = (roomID) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreMessageManager.getOlderMessagesBeforeTimestamp(roomID, 50, {
      // What the app shows: a message the user deleted stays in the SDK's cache, marked.
      onSuccess: (messages, hasMore) =>
        resolve({
          bodies: Object.values(messages)
            .filter((m) => !m.isDeleted)
            .map((m) => m.body),
          hasMore,
        }),
      onError: (code, message) => reject(new Error(`${code} ${message}`)),
    }),
  );

window.newer = (roomID) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreMessageManager.getNewerMessagesAfterTimestamp(roomID, {
      onSuccess: (messages) => resolve(Object.values(messages).map((m) => m.body)),
      onError: (code, message) => reject(new Error(`${code} ${message}`)),
    }),
  );

window.roomList = () =>
  new Promise((resolve, reject) =>
    sdk.tapCoreRoomListManager.getRoomListAndRead({
      onSuccess: (list) => resolve(summary(list)),
      onError: (code, message) => reject(new Error(`${code} ${message}`)),
    }),
  );

// Media. Files are made in the page, as an app would get them from a file picker: arbitrary
// bytes, a PNG drawn on a canvas, a WebM recorded from a canvas, a WAV tone.
function canvas(width, height) {
  const c = document.createElement("canvas");
  c.width = width;
  c.height = height;
  const g = c.getContext("2d");
  g.fillStyle = "#2a6";
  g.fillRect(0, 0, width, height);
  g.fillStyle = "#fff";
  g.fillText("confab", 4, 20);
  return c;
}

async function mediaFile(kind) {
  if (kind === "file") {
    const bytes = new Uint8Array(200_000).map((_, i) => (i * 7) % 251);
    return new File([bytes], "report.bin", { type: "application/octet-stream" });
  }
  if (kind === "image") {
    const blob = await new Promise((resolve) => canvas(64, 48).toBlob(resolve, "image/png"));
    return new File([blob], "photo.png", { type: "image/png" });
  }
  if (kind === "video") {
    const c = canvas(160, 120);
    const recorder = new MediaRecorder(c.captureStream(10), { mimeType: "video/webm" });
    const chunks = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((resolve) => (recorder.onstop = resolve));
    recorder.start();
    const g = c.getContext("2d");
    for (let i = 0; i < 10; i++) {
      g.fillStyle = `hsl(${i * 36}, 60%, 50%)`;
      g.fillRect(0, 0, 160, 120);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    recorder.stop();
    await stopped;
    return new File(chunks, "clip.webm", { type: "video/webm" });
  }
  // voice: half a second of a 440 Hz tone, 8 kHz mono 16-bit WAV
  const samples = 4000;
  const wav = new DataView(new ArrayBuffer(44 + samples * 2));
  const text = (at, s) => [...s].forEach((ch, i) => wav.setUint8(at + i, ch.charCodeAt(0)));
  text(0, "RIFF");
  wav.setUint32(4, 36 + samples * 2, true);
  text(8, "WAVEfmt ");
  wav.setUint32(16, 16, true);
  wav.setUint16(20, 1, true);
  wav.setUint16(22, 1, true);
  wav.setUint32(24, 8000, true);
  wav.setUint32(28, 16000, true);
  wav.setUint16(32, 2, true);
  wav.setUint16(34, 16, true);
  text(36, "data");
  wav.setUint32(40, samples * 2, true);
  for (let i = 0; i < samples; i++) {
    wav.setInt16(44 + i * 2, Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), true);
  }
  return new File([wav.buffer], "voice.wav", { type: "audio/wav" });
}

async function base64Of(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

window.sha256 = async (base64) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
};

// Sends a media message through the SDK's own function for its kind; resolves with the
// message the SDK reports and the base64 of the file the app picked.
window.sendMedia = async (kind, room) => {
  const file = await mediaFile(kind);
  const original = await base64Of(file);
  return new Promise((resolve, reject) => {
    const callback = {
      onStart: () => {},
      onProgress: () => {},
      onSuccess: (message) => resolve({ localID: message.localID, data: message.data, original }),
      onError: (code, message) => reject(new Error(`${kind}: ${code} ${message}`)),
    };
    const messages = sdk.tapCoreMessageManager;
    if (kind === "file") messages.sendFileMessage(file, room, callback);
    else if (kind === "image") messages.sendImageMessage(file, "a picture", room, callback);
    else if (kind === "video") messages.sendVideoMessage(file, "a clip", room, callback);
    else messages.sendVoiceMessage(file, 500, room, callback);
  });
};

// The file the SDK keeps for a file ID (the sender's upload, or a download), as base64.
window.storedFile = (fileID) =>
  new Promise((resolve) =>
    sdk.tapCoreChatRoomManager.getFileFromDB(fileID, (entry) => resolve(entry ? entry.file : null)),
  );

window.download = (message) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreChatRoomManager.downloadMessageFile(message, {
      onProgress: () => {},
      onSuccess: (file) => resolve(file),
      onError: (code, text) => reject(new Error(`download: ${code} ${text}`)),
    }),
  );

window.roomMedia = (roomID) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreChatRoomManager.getRoomMedia(roomID, {
      onSuccess: (data) => resolve(data),
      onError: (code, text) => reject(new Error(`shared content: ${code} ${text}`)),
    }),
  );

// Photos: a PNG drawn on a canvas, as an app would take from a picker or a camera.
async function photoFile() {
  const blob = await new Promise((resolve) => canvas(96, 96).toBlob(resolve, "image/png"));
  return new File([blob], "me.png", { type: "image/png" });
}

window.uploadPhoto = async () => {
  const file = await photoFile();
  const original = await base64Of(file);
  return new Promise((resolve, reject) =>
    sdk.taptalk.uploadUserPhoto(file, {
      onSuccess: () => resolve({ imageURL: sdk.taptalk.getTaptalkActiveUser().imageURL, original }),
      onError: (code, text) => reject(new Error(`photo: ${code} ${text}`)),
    }),
  );
};

window.userByID = (userID) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreContactManager.getUserDataWithUserID(userID, {
      onSuccess: (data) => resolve(data.user),
      onError: (code, text) => reject(new Error(`user: ${code} ${text}`)),
    }),
  );

window.groupWithPicture = async (name, userIDs) => {
  const file = await photoFile();
  return new Promise((resolve, reject) =>
    sdk.tapCoreChatRoomManager.createGroupChatRoomWithPicture(name, userIDs, file, {
      onSuccess: (room) => resolve(room),
      onError: (code, text) => reject(new Error(`group with picture: ${code} ${text}`)),
    }),
  );
};

// Room states: mute, pin, mark as unread (each the calling user's own).
function call(run) {
  return new Promise((resolve, reject) =>
    run({ onSuccess: resolve, onError: (code, message) => reject(new Error(`${code} ${message}`)) }),
  );
}

window.muteRooms = (roomIDs, expiredAt) =>
  call((cb) => sdk.tapCoreRoomListManager.setMutedRooms(roomIDs, expiredAt, cb)).then((r) => r.data);
window.unmuteRooms = (roomIDs) =>
  call((cb) => sdk.tapCoreRoomListManager.unsetMutedRooms(roomIDs, cb)).then((r) => r.data);
window.mutedRooms = () => call((cb) => sdk.tapCoreRoomListManager.getMutedRooms(cb));
window.pinRooms = (roomIDs) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreRoomListManager.pinRoom(roomIDs, {
      onSuccess: (pinned) => resolve(Object.keys(pinned)),
      onError: (code, message) => reject(new Error(`${code} ${message}`)),
    }),
  );
window.unpinRooms = (roomIDs) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreRoomListManager.unpinRoom(roomIDs, {
      onSuccess: (pinned) => resolve(Object.keys(pinned)),
      onError: (code, message) => reject(new Error(`${code} ${message}`)),
    }),
  );
// The SDK calls back before it sends the request (it shows the mark at once).
window.markUnread = (roomIDs) =>
  call((cb) => sdk.tapCoreChatRoomManager.markChatRoomAsUnread(roomIDs, cb)).then((list) =>
    roomIDs.map((id) => list[id].isMarkAsUnread),
  );
window.markedUnread = () =>
  call((cb) => sdk.tapCoreChatRoomManager.getMarkedAsUnreadChatRoomList(cb)).then(
    (r) => r.data.unreadRoomIDs,
  );

// Stars (the user's own) and pins (the room's).
const messages = () => sdk.tapCoreMessageManager;
window.star = (roomID, ids) => call((cb) => messages().starMessage(roomID, ids, cb));
window.unstar = (roomID, ids) => call((cb) => messages().unstarMessage(roomID, ids, cb));
window.starredIDs = (roomID) =>
  call((cb) => messages().getStarredMessageIds(roomID, cb)).then((r) => Object.keys(r.messages));
window.starredList = (roomID) =>
  call((cb) => messages().fetchStarredMessages(roomID, cb)).then((r) => r.messages);
window.pin = (roomID, list) => call((cb) => messages().pinMessage(roomID, list, cb));
window.unpin = (roomID, ids) => call((cb) => messages().unpinMessage(roomID, ids, false, cb));
window.pinnedIDs = (roomID) =>
  call((cb) => messages().getPinnedMessageIds(roomID, cb)).then((r) => Object.keys(r.messages));
window.pinnedList = (roomID) =>
  call((cb) => messages().fetchPinnedMessages(roomID, cb)).then((r) => r.messages);

window.messageInfo = (messageID) => call((cb) => messages().fetchMessageInfo(messageID, cb));
window.totalRead = (messageID) => call((cb) => messages().fetchTotalReadCount(messageID, cb));

window.groupsInCommon = (userID) =>
  call((cb) => sdk.tapCoreChatRoomManager.fetchGroupInCommon(userID, cb));
window.deleteGroup = (roomID) =>
  call((cb) => sdk.tapCoreChatRoomManager.deleteGroupChatRoom(roomID, cb));
window.leaveGroup = (roomID) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreChatRoomManager.leaveGroupChatRoom(roomID, {
      onSuccess: (success, message) => resolve({ success, message }),
      onError: (code, message) => reject(new Error(`${code} ${message}`)),
    }),
  );

// Contacts, blocks and reports.
const contacts = () => sdk.tapCoreContactManager;
window.addContact = (userID) => call((cb) => contacts().addToTapTalkContactsWithUserID(userID, cb));
window.contactIDs = () =>
  call((cb) => contacts().getAllUserContacts(cb)).then((list) => list.map((c) => c.user.userID));
window.block = (userID) => call((cb) => contacts().blockUser(userID, cb));
window.unblock = (userID) => call((cb) => contacts().unblockUser(userID, cb));
window.blockedIDs = () => call((cb) => contacts().getBlockedUserIDs(cb));
window.blockedList = () =>
  call((cb) => contacts().getBlockedUserList(cb)).then((users) => users.map((u) => u.userID));
window.reportUser = (userID, category, reason) =>
  call((cb) => contacts().reportUser(userID, category, false, reason, cb));
window.reportMessage = (messageID, roomID, category, reason) =>
  call((cb) => contacts().reportMessage(messageID, roomID, category, true, reason, cb));

// Clearing a chat and deleting for oneself.
window.clearChats = (roomIDs) =>
  call((cb) => sdk.tapCoreChatRoomManager.deleteAllChatRoomMessages(roomIDs, cb));
// The SDK calls nothing back for this one: the driver checks the server's view afterwards.
window.deleteForMe = (roomID, ids) => messages().markMessageAsDeleted(roomID, ids, false);

// Scheduled messages.
window.schedule = (room, text, at) =>
  call((cb) =>
    messages().createScheduledMessage(messages().constructTapTalkMessageModel(text, room, 1001, ""), at, cb),
  ).then((r) => ({ id: r.createdItem.id, localID: r.createdItem.message.localID }));
window.scheduledList = (roomID) =>
  new Promise((resolve, reject) =>
    messages().fetchScheduledMessages(roomID, {
      onSuccess: (items) => resolve(items.map((i) => ({ id: i.id, body: i.message.body, at: i.scheduledTime }))),
      onError: (code, message) => reject(new Error(`${code} ${message}`)),
    }),
  );
window.reschedule = (id, at) => call((cb) => messages().editScheduledMessageTime(id, at, cb));
window.sendScheduledNow = (ids, roomID) => call((cb) => messages().sendScheduledMessageNow(ids, roomID, cb));
window.deleteScheduled = (ids, roomID) => call((cb) => messages().deleteScheduledMessage(ids, roomID, cb));

// A group's life through the SDK, and the rest of a profile.
const rooms = () => sdk.tapCoreChatRoomManager;
window.addMembers = (roomID, ids) => call((cb) => rooms().addGroupChatMembers(roomID, ids, cb));
window.removeMembers = (roomID, ids) => call((cb) => rooms().removeGroupChatMembers(roomID, ids, cb));
window.promote = (roomID, ids) => call((cb) => rooms().promoteGroupAdmins(roomID, ids, cb));
window.demote = (roomID, ids) => call((cb) => rooms().demoteGroupAdmins(roomID, ids, cb));
window.renameGroup = (roomID, name) => call((cb) => rooms().updateGroupChatRoomDetails(roomID, name, cb));
window.groupByID = (roomID) => call((cb) => rooms().getGroupChatRoom(roomID, cb));
window.photos = (userID) => call((cb) => sdk.taptalk.getListUserPhoto(userID, cb)).then((r) => r.photos);
window.setMainPhoto = (id) => call((cb) => sdk.taptalk.setMainUserPhoto(id, cb));
window.deletePhoto = (id, created) => call((cb) => sdk.taptalk.deleteUserPhoto(id, created, cb));
window.updateBio = (bio) => call((cb) => sdk.taptalk.updateBio(bio, cb));
window.userByXcID = (xcUserID) => call((cb) => contacts().getUserDataWithXCUserID(xcUserID, cb)).then((d) => d.user);
window.userByUsername = (username) =>
  call((cb) => contacts().getUserByUsername(username, true, cb)).then((d) => d.user);
window.removeContact = (userID) => call((cb) => contacts().removeFromTapTalkContacts(userID, cb));
window.addContactByPhone = (phone) => call((cb) => contacts().addToTapTalkContactsWithPhoneNumber(phone, cb));
window.editScheduled = (id, room, text) =>
  call((cb) =>
    messages().editScheduledMessageContent(id, messages().constructTapTalkMessageModel(text, room, 1001, ""), cb),
  );
window.newAndUpdated = () =>
  call((cb) => sdk.tapCoreRoomListManager.getRoomNewAndUpdated(cb)).then((list) => summary(list));
window.logout = () => call((cb) => sdk.taptalk.logoutAndClearAllTapTalkData(cb));
