// The console's strings in English and Simplified Chinese. The language comes from the switch (kept in localStorage),
// else from the browser; <html lang> follows it.
const strings = {
  en: {
    "brand": "Relay console",
    "nav.keys": "Users and keys",
    "signout": "Sign out",
    "language": "Language",
    "signin.title": "Sign in",
    "signin.adminKey": "Admin key",
    "signin.submit": "Sign in",
    "signin.hint": "The admin key is adminKey in relay.json or RELAY_ADMIN_KEY.",
    "signin.wrong": "That is not the admin key.",
    "signin.limited": "Too many failed sign-ins from this address; wait and try again.",
    "keys.title": "Users and keys",
    "keys.keys": "Keys",
    "keys.users": "Users",
    "keys.name": "Name",
    "keys.prefix": "Key",
    "keys.status": "Status",
    "keys.user": "User",
    "keys.limits": "Limits",
    "keys.spent": "Spent",
    "keys.budgetLeft": "Budget left",
    "keys.actions": "Actions",
    "keys.none": "No keys yet.",
    "keys.noLimits": "none",
    "keys.create": "Create key",
    "keys.noUser": "(no user)",
    "keys.disable": "Disable",
    "keys.enable": "Enable",
    "keys.revoke": "Revoke",
    "keys.confirmRevoke": "Revoke key {name}? Clients using it are refused at once; this cannot be undone.",
    "keys.created": "Key {name} created. Copy it now: Relay keeps only its hash and will not show it again.",
    "keys.copy": "Copy",
    "keys.copied": "Copied",
    "keys.claudeCode": "Claude Code (~/.claude/settings.json)",
    "keys.claudeDesktop": "Claude Desktop (third-party inference, gateway)",
    "keys.dismiss": "Done",
    "status.active": "active",
    "status.disabled": "disabled",
    "status.expired": "expired",
    "status.revoked": "revoked",
    "users.name": "Name",
    "users.balance": "Balance",
    "users.spent": "Spent",
    "users.keys": "Keys",
    "users.notPrepaid": "not prepaid",
    "users.none": "No users yet.",
    "users.create": "Create user",
    "users.startBalance": "Starting balance (USD, empty: not prepaid)",
    "users.amount": "USD",
    "users.topup": "Top up",
    "error.session": "Your session ended; sign in again.",
  },
  "zh-CN": {
    "brand": "Relay 控制台",
    "nav.keys": "用户与密钥",
    "signout": "退出登录",
    "language": "语言",
    "signin.title": "登录",
    "signin.adminKey": "管理员密钥",
    "signin.submit": "登录",
    "signin.hint": "管理员密钥即 relay.json 中的 adminKey 或环境变量 RELAY_ADMIN_KEY。",
    "signin.wrong": "管理员密钥不正确。",
    "signin.limited": "该地址登录失败次数过多，请稍后再试。",
    "keys.title": "用户与密钥",
    "keys.keys": "密钥",
    "keys.users": "用户",
    "keys.name": "名称",
    "keys.prefix": "密钥",
    "keys.status": "状态",
    "keys.user": "用户",
    "keys.limits": "限制",
    "keys.spent": "已用",
    "keys.budgetLeft": "剩余预算",
    "keys.actions": "操作",
    "keys.none": "还没有密钥。",
    "keys.noLimits": "无",
    "keys.create": "创建密钥",
    "keys.noUser": "（无用户）",
    "keys.disable": "停用",
    "keys.enable": "启用",
    "keys.revoke": "吊销",
    "keys.confirmRevoke": "吊销密钥 {name}？使用它的客户端会立即被拒绝，且无法撤销。",
    "keys.created": "密钥 {name} 已创建。请立即复制：Relay 只保存其哈希，不会再次显示。",
    "keys.copy": "复制",
    "keys.copied": "已复制",
    "keys.claudeCode": "Claude Code（~/.claude/settings.json）",
    "keys.claudeDesktop": "Claude Desktop（第三方推理，网关）",
    "keys.dismiss": "完成",
    "status.active": "正常",
    "status.disabled": "已停用",
    "status.expired": "已过期",
    "status.revoked": "已吊销",
    "users.name": "名称",
    "users.balance": "余额",
    "users.spent": "已用",
    "users.keys": "密钥数",
    "users.notPrepaid": "非预付",
    "users.none": "还没有用户。",
    "users.create": "创建用户",
    "users.startBalance": "初始余额（美元，留空为非预付）",
    "users.amount": "美元",
    "users.topup": "充值",
    "error.session": "会话已结束，请重新登录。",
  },
};

export const languages = [["en", "English"], ["zh-CN", "简体中文"]];

const storageKey = "relay.console.lang";

function initial() {
  const saved = localStorage.getItem(storageKey);
  if (saved && strings[saved]) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

let current = initial();
document.documentElement.lang = current;

export function lang() { return current; }

export function setLang(next) {
  if (!strings[next]) return;
  current = next;
  localStorage.setItem(storageKey, next);
  document.documentElement.lang = next;
}

export function t(key, values = {}) {
  const text = strings[current][key] ?? strings.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}
